"""A visitor whose browser is in Tokyo is offered Tokyo time on the status page; once they take
it, the times are in Tokyo, named, until they go back to UTC (static/js/visitor-zone.js)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser_support import TIMEOUT_MS, VIEWPORT
from tests.incidents.factories import IncidentFactory, IncidentUpdateFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_status_page_offers_the_browsers_zone(browser, live_server, screenshots_dir):
    started = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=30)
    incident = IncidentFactory(title="Payments failing", started_at=started)
    IncidentUpdateFactory(incident=incident, body="Rolling back.")
    tokyo = timezone.localtime(started, timezone.get_fixed_timezone(9 * 60))

    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, timezone_id="Asia/Tokyo"
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/status/")
        incidents = page.locator(".status-incidents")
        expect(incidents).to_contain_text(f"{started:%H:%M} UTC")
        offer = page.get_by_role("button", name="Show times in your time zone (Asia/Tokyo)")
        offer.click()
        expect(page.locator("[data-zone-choice]")).to_contain_text("Times in Asia/Tokyo")
        expect(incidents).to_contain_text(f"{tokyo:%H:%M} Asia/Tokyo")
        screenshots_dir.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshots_dir / "status-visitor-zone.png"))
        page.get_by_role("button", name="show UTC and each service's zone").click()
        expect(incidents).to_contain_text(f"{started:%H:%M} UTC")
        expect(offer).to_be_visible()
    finally:
        context.close()
