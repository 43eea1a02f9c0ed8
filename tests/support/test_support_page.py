"""/support/<service-slug>/: how to reach support and when, the tiers, the SLA table, the
maintenance windows, and the signed-in customer's own contract and hours this month — all read
from the shipped plans, at pinned 2027 dates."""

import html
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from sla.models import Service, SupportContract
from tests import factories
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
    TimeEntryFactory,
)

pytestmark = pytest.mark.django_db

PLANS = Path(__file__).resolve().parents[2] / "plans"
NOW = datetime(2027, 2, 10, 15, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def plans():
    with time_machine.travel(NOW, tick=False):
        call_command(
            "load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO()
        )
        yield


def page(client, slug):
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/support/{slug}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_roofing_lines_with_the_hours_each_is_staffed(client, plans):
    """The support address; the 1-800 line and the hotline are Tier 3's, staffed business
    hours and around the clock for P1 (critical)."""
    text = page(client, "roofing-platform")
    assert "mailto:support@roofingplatform.com" in text
    staffed = "Mon–Fri 09:00–18:00 (America/New_York); around the clock for P1"
    assert "1-800-ROOF-SUPPORT</strong> — Support line (Tier 3 — Engineering Support)" in text
    assert "hotline +1 (800) ROOF-911</strong> — Tier 3 — Engineering Support" in text
    assert text.count(f"Staffed: {staffed}") == 2
    assert "Tier 1 — Basic Support</strong>: Basic troubleshooting, user guidance." in text
    assert "Hours: Mon–Fri 07:00–21:00; Sat 09:00–17:00 (America/New_York)" in text


def test_roofing_sla_table_by_priority(client, plans):
    """P1 15 minutes around the clock; P3 4 hours of business hours; no resolution time for
    P2–P4 (the seed gives none)."""
    text = page(client, "roofing-platform")
    p1 = text.split('data-priority="P1"')[1].split("</tr>")[0]
    p3 = text.split('data-priority="P3"')[1].split("</tr>")[0]
    assert "15 minutes" in p1 and "4 hours" in p1 and "around the clock" in p1
    assert "4 hours" in p3 and "no fixed time" in p3 and "Mon–Fri 09:00–18:00" in p3


def test_roofing_maintenance_windows_and_notices(client, plans):
    text = page(client, "roofing-platform")
    assert "Security updates</strong>: the first Monday of each month, 02:00 for 4h" in text
    assert "Application updates</strong>: the last Monday of each month" in text
    assert "We tell you 7 days and 48 hours before each window by email and with a banner" in text
    assert "Security updates: Mon 1 Mar 2027, 02:00–06:00 America/New_York" in text


def test_xsafe_page_shows_its_uptime_and_weekly_window(client, plans):
    text = page(client, "xsafe-erp")
    assert "Scheduled downtime</strong>: every Sunday, 02:00 for 2h (UTC). Full downtime" in text
    assert "99.99 %" in text and "mailto:support@xsafe.com" in text


def test_a_signed_in_customer_sees_their_organisations_contract_and_hours(client, plans):
    """Legacy Basic (20 h a month), 3 h logged in February: shown to a member only, on the
    page of the organisation's own service."""
    legacy = Service.objects.get(slug="legacy-estate-os")
    organization = OrganizationFactory(service=legacy, name="Estate Co")
    ContractPeriodFactory(
        organization=organization,
        contract=SupportContract.objects.get(service=legacy, name="Basic"),
    )
    member = OrganizationMemberFactory(organization=organization).user
    TimeEntryFactory(
        organization=organization,
        ticket=factories.TicketFactory(service=legacy),
        minutes=180,
        worked_at=datetime(2027, 2, 3, 15, 0, tzinfo=UTC),
    )
    assert "Your contract" not in page(client, "legacy-estate-os")
    client.force_login(member)
    text = page(client, "legacy-estate-os")
    assert "Estate Co</strong>: Basic, 20 hours a month" in text
    assert "February 2027" in text and "3" in text.split("support-contract")[1]
    assert "Your contract" not in page(client, "xsafe-erp")


def test_an_unknown_service_is_404(client, plans):
    assert client.get("/support/no-such-service/").status_code == 404


def test_home_ticket_form_and_status_page_link_to_the_support_page(client, db):
    """A customer finds the support page from where they need it: home, the ticket form and
    the status page."""
    from django.urls import reverse

    from tests import factories

    service = factories.ServiceFactory(slug="linked", name="Linked service")
    factories.PriorityFactory(service=service, code="P3")
    customer = factories.CustomerFactory(services=[service])
    support = reverse("support:service", args=["linked"])
    assert support in client.get(reverse("status")).content.decode()
    client.force_login(customer)
    assert support in client.get("/").content.decode()
    assert support in client.get(reverse("tickets:new")).content.decode()
