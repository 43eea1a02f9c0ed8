"""A customer's journey on a 390 px phone, in a real browser against the live server.

Jo signs up with an address on her organisation's email domain; opening the emailed link shows
a "Confirm my address" button (nothing happens on opening), pressing it signs her in with her
organisation's service at once. She files a ticket; her tickets read as cards without sideways
scrolling; on the ticket the status comes before the reply form. Support resolves it; she rates
it with the stars and changes her mind; she closes it, which asks first. Screenshots go to
docs/screenshots/ with ``UPDATE_SCREENSHOTS=1``.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from contracts import services as contracts
from notifications.models import Notification
from tests import factories
from tests.browser_support import TIMEOUT_MS
from tests.contracts.factories import OrganizationFactory
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
EMAIL = "jo@acme.example"
PASSWORD = "Phone-Journey-2026-ok"


@pytest.fixture
def phone(browser, live_server, screenshots_dir):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def shot(name):
        screenshots_dir.mkdir(parents=True, exist_ok=True)
        path = screenshots_dir / f"phone-{name}.png"
        page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 0

    page.shot = shot
    yield page
    context.close()


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide"


def test_customer_on_a_phone(phone, live_server, settings):
    settings.SITE_URL = live_server.url
    page = phone
    service = factories.ServiceFactory(slug="billing", name="Billing platform")
    priority = factories.PriorityFactory(service=service, code="P2", name="Normal", position=1)
    admin = factories.UserFactory(is_staff=True, is_superuser=True, email="boss@provider.test")
    acme = OrganizationFactory(name="Acme", service=service)
    contracts.organization_set_domains(organization=acme, domains=["acme.example"], by=admin)
    staff = factories.StaffFactory(tier=1, email="t1@provider.test")

    # --- Sign up, open the link (nothing happens), confirm -----------------------------------
    page.goto("/accounts/signup/")
    page.locator("#id_email").fill(EMAIL)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password_confirm").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    body = Notification.objects.get(key__contains=":verify:", to=EMAIL).body_text
    link = re.search(r"https?://\S+/accounts/verify/\S+/", body)[0]
    page.goto(link)
    expect(page.get_by_role("button", name="Confirm my address")).to_be_visible()
    assert not get_user_model().objects.get(email=EMAIL).is_active
    page.shot("verify-confirm")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Billing platform")
    expect(page.get_by_test_id("viewer-zone")).to_be_visible()
    _no_sideways_scroll(page)
    page.shot("dashboard")

    # --- File a ticket; the list reads as cards ----------------------------------------------
    page.goto("/tickets/new/")
    page.locator("#id_priority").select_option(str(priority.pk))
    page.locator("#id_subject").fill("Invoices export is empty")
    page.locator("#id_description").fill("The export from yesterday has no rows.")
    page.get_by_role("button", name="Submit ticket").click()
    ticket = Ticket.objects.get()
    page.goto("/tickets/")
    expect(page.get_by_role("link", name="Invoices export is empty")).to_be_visible()
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.ticket-list tr')).display")
        == "block"
    )
    _no_sideways_scroll(page)
    page.shot("ticket-list")

    # --- Status above the reply form --------------------------------------------------------
    page.goto(f"/tickets/{ticket.pk}/")
    status_box = page.get_by_test_id("ticket-status").bounding_box()
    reply_box = page.get_by_role("button", name="Send reply").bounding_box()
    assert status_box["y"] < reply_box["y"]
    assert status_box["y"] < PHONE["height"]  # seen without scrolling
    _no_sideways_scroll(page)
    page.shot("ticket")

    # --- Resolved: rate with the stars, then change it ----------------------------------------
    tickets.ticket_reply(ticket=ticket, author=staff, body="Re-ran the export; rows are back.")
    tickets.ticket_set_status(ticket=ticket, status="resolved", by=staff)
    page.reload()
    # Five radio buttons, named by their labels, 1 → 5; a star is clicked through its label.
    for n, word in enumerate(["Very poor", "Poor", "Fair", "Good", "Excellent"], start=1):
        expect(page.get_by_role("radio", name=re.compile(f"^{n} stars?: {word}$"))).to_have_count(1)
    page.locator("label[for='id_rating_1']").click()
    expect(page.get_by_role("radio", name="2 stars: Poor")).to_be_checked()
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_text("You rated this ticket 2/5")).to_be_visible()
    page.locator("label[for='id_rating_4']").click()
    page.locator("#id_comment").fill("Quick once I explained")
    page.shot("rating")
    page.get_by_role("button", name="Change rating").click()
    expect(page.get_by_text("You rated this ticket 5/5")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (5, "Quick once I explained")

    # --- Close asks first ---------------------------------------------------------------------
    page.get_by_role("link", name="Close ticket…").click()
    expect(page.get_by_role("button", name="Yes, close the ticket")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    page.shot("close-confirm")
    page.get_by_role("button", name="Yes, close the ticket").click()
    expect(page.get_by_test_id("closed-note")).to_contain_text("You can reopen it until")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    _no_sideways_scroll(page)
