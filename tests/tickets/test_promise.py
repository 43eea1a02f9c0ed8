"""What a ticket promises its customer — first response and resolution, with the hours and the
zone — on the submission confirmation, the ticket page and the confirmation email, read from
the deadlines the timers stored, on the shipped plans at pinned 2027 dates."""

import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import Profile
from notifications.models import Notification
from sla.models import Service
from tests import factories
from tickets import services
from tickets.emails import received_key

pytestmark = pytest.mark.django_db

PLANS = Path(__file__).resolve().parents[2] / "plans"
# Friday 8 January 2027, 17:30 in New York (EST, UTC-5): half an hour before Tier 1 goes home.
FRIDAY_EVENING = datetime(2027, 1, 8, 22, 30, tzinfo=UTC)


@pytest.fixture
def plans():
    with time_machine.travel(FRIDAY_EVENING - timedelta(days=1), tick=False):
        call_command(
            "load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO()
        )


def customer_of(slug, *, zone=""):
    customer = factories.CustomerFactory(services=[Service.objects.get(slug=slug)])
    if zone:
        Profile.objects.update_or_create(user=customer, defaults={"timezone": zone})
    return customer


def file(customer, slug, priority, at):
    with time_machine.travel(at, tick=False):
        return services.ticket_create(
            customer=customer, service=slug, priority=priority, subject="Broken", description="x"
        )


def get(client, user, url, at):
    with time_machine.travel(at, tick=False):
        client.force_login(user)
        response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def line(text, timer):
    """The promise line of ``timer`` on a page: its state, its words and the instant its
    ``<time>`` names (None when it names none)."""
    part = text.split(f'data-testid="sla-{timer}" data-state="')[1].split("</li>")[0]
    state, rest = part.split('"', 1)
    instant = re.search(r'datetime="([^"]+)"', rest)
    words = " ".join(re.sub(r"<[^>]+>", " ", rest.split(">", 1)[1]).split())
    return state, words, datetime.fromisoformat(instant[1]) if instant else None


def test_roofing_p2_friday_evening_is_answered_monday_morning(client, plans):
    """P2 runs on Tier 1's business hours (9–6 ET): filed Friday 17:30 EST, the hour left runs
    30 minutes on Friday and 30 on Monday, so the confirmation page, the email and the ticket
    page all say Monday 09:30 EST — and that P2 has no fixed resolution time."""
    customer = customer_of("roofing-platform")
    ticket = file(customer, "roofing-platform", "P2", FRIDAY_EVENING)
    assert ticket.response_due_at == datetime(2027, 1, 11, 14, 30, tzinfo=UTC)
    terms = (
        "P2 — High: first response within 1 hour; "
        "business hours Mon–Fri 09:00–18:00 (America/New_York)"
    )
    for url in (f"/tickets/{ticket.pk}/submitted/", ticket.get_absolute_url()):
        page = get(client, customer, url, FRIDAY_EVENING + timedelta(minutes=1))
        assert line(page, "response") == (
            "due",
            "Due We will respond by Mon 11 Jan 2027 09:30 EST.",
            datetime(2027, 1, 11, 14, 30, tzinfo=UTC),
        )
        assert line(page, "resolution") == (
            "none",
            "No fixed resolution time for this priority.",
            None,
        )
        assert f"{terms}. Times in America/New_York." in page
        assert "/support/roofing-platform/" in page
    email = Notification.objects.get(key=received_key(ticket))
    assert "We will respond by Mon 11 Jan 2027 09:30 EST." in email.body_text
    assert f"{terms}. Times in America/New_York." in email.body_text
    assert "We will respond by Mon 11 Jan 2027 09:30 EST." in html.unescape(email.body_html)


def test_times_read_in_the_customers_own_zone(client, plans):
    """A customer who chose Europe/London reads the same instant as 14:30 GMT, on the page and
    in the email; the hours stay stated in the calendar's own zone, named."""
    customer = customer_of("roofing-platform", zone="Europe/London")
    ticket = file(customer, "roofing-platform", "P2", FRIDAY_EVENING)
    page = get(client, customer, ticket.get_absolute_url(), FRIDAY_EVENING)
    assert "We will respond by Mon 11 Jan 2027 14:30 GMT." in page
    assert "09:00–18:00 (America/New_York). Times in Europe/London." in page
    email = Notification.objects.get(key=received_key(ticket))
    assert "We will respond by Mon 11 Jan 2027 14:30 GMT." in email.body_text


def test_overdue_then_met_late(client, plans):
    """Past the deadline with no answer the page says overdue; the late answer then reads as a
    first response later than promised."""
    customer = customer_of("roofing-platform")
    ticket = file(customer, "roofing-platform", "P2", FRIDAY_EVENING)
    monday_late = datetime(2027, 1, 11, 15, 0, tzinfo=UTC)  # 10:00 EST
    page = get(client, customer, ticket.get_absolute_url(), monday_late)
    assert line(page, "response")[0] == "overdue"
    assert "Our first response was due Mon 11 Jan 2027 09:30 EST and is overdue." in page
    staff = factories.StaffFactory(tier=1)
    with time_machine.travel(monday_late, tick=False):
        services.ticket_reply(ticket=ticket, author=staff, body="On it.")
    page = get(client, customer, ticket.get_absolute_url(), monday_late)
    assert line(page, "response")[0] == "missed"
    assert "First response Mon 11 Jan 2027 10:00 EST — later than promised." in page


def test_legacy_pause_and_met_states(client, plans):
    """Legacy P2: 4 h response, 48 h resolution, around the clock. A reply in time reads as
    met; waiting on the customer pauses the resolution clock, and the page says since when and
    how much of it is left; resolved in time reads as met."""
    customer = customer_of("legacy-estate-os")
    opened = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)  # Mon 09:00 EST
    ticket = file(customer, "legacy-estate-os", "P2", opened)
    page = get(client, customer, ticket.get_absolute_url(), opened)
    assert "We will respond by Mon 1 Mar 2027 13:00 EST." in page
    assert "We aim to resolve it by Wed 3 Mar 2027 09:00 EST." in page
    assert "P2 — Medium: first response within 4 hours, resolution within 48 hours; " in page
    assert "counted around the clock" in page

    staff = factories.StaffFactory(tier=1)
    with time_machine.travel(opened + timedelta(hours=1), tick=False):
        services.ticket_reply(ticket=ticket, author=staff, body="Can you send the log?")
    with time_machine.travel(opened + timedelta(hours=2), tick=False):
        services.ticket_set_status(ticket=ticket, status="waiting_on_customer", by=staff)
    page = get(client, customer, ticket.get_absolute_url(), opened + timedelta(hours=30))
    assert line(page, "response") == (
        "met",
        "Met First response Mon 1 Mar 2027 10:00 EST — in time.",
        datetime(2027, 3, 1, 15, 0, tzinfo=UTC),
    )
    assert line(page, "resolution")[0] == "paused"
    assert (
        "The resolution clock is paused while we wait for your reply "
        "(since Mon 1 Mar 2027 11:00 EST); 46 h to go when it restarts." in page
    )

    ticket.refresh_from_db()
    with time_machine.travel(opened + timedelta(hours=31), tick=False):
        services.ticket_reply(ticket=ticket, author=customer, body="Here it is.")
    ticket.refresh_from_db()
    # 29 hours paused: the deadline moved from Wed 09:00 to Thu 14:00 EST.
    page = get(client, customer, ticket.get_absolute_url(), opened + timedelta(hours=31))
    assert "We aim to resolve it by Thu 4 Mar 2027 14:00 EST." in page
    with time_machine.travel(opened + timedelta(hours=40), tick=False):
        services.ticket_set_status(ticket=ticket, status="resolved", by=staff)
    page = get(client, customer, ticket.get_absolute_url(), opened + timedelta(hours=41))
    assert line(page, "resolution") == (
        "met",
        "Met Resolved Wed 3 Mar 2027 01:00 EST — in time.",
        datetime(2027, 3, 3, 6, 0, tzinfo=UTC),
    )
