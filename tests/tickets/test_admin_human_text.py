"""The ticket page speaks human: durations as "57 min" / "2 h 5 min", every time in the
reader's profile zone (else the service's) with the zone's name, no ISO stamps or
microseconds in the SLA log or the timeline."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Profile
from tests import factories
from tickets import services
from tickets.models import TimerOutcome
from tickets.templatetags.staff_time import human_duration, local_time, zone_named

pytestmark = pytest.mark.django_db

# A naked ISO instant or a timedelta's "0:57:37.695703" as page text (not inside an attribute).
ISO_TEXT = re.compile(r">[^<]*\d{4}-\d{2}-\d{2}T\d{2}:\d{2}[^<]*<")
TIMEDELTA_TEXT = re.compile(r">[^<]*\d+:\d{2}:\d{2}\.\d+[^<]*<")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(minutes=57, seconds=37, microseconds=695703), "57 min"),
        (-timedelta(minutes=57, seconds=37, microseconds=695703), "57 min"),
        (timedelta(hours=2, minutes=5, seconds=59), "2 h 5 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(days=3, hours=4, minutes=10), "3 d 4 h"),
        (timedelta(seconds=20), "under 1 min"),
    ],
)
def test_durations_read_as_minutes_hours_days(delta, text):
    """Never seconds, microseconds or a "H:MM:SS" clock."""
    assert human_duration(delta) == text


def test_times_carry_their_zone():
    """ "2 Dec 2026 14:05 CET": the zone's abbreviation, or UTC±hh where it has none."""
    instant = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
    assert local_time(instant, zone_named("Europe/Berlin")) == "2 Dec 2026 14:05 CET"
    assert local_time(instant, zone_named("Asia/Dubai")) == "2 Dec 2026 17:05 UTC+04"
    assert local_time(instant, zone_named("No/Such_Zone")) == "2 Dec 2026 13:05 UTC"


OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def worked_ticket(service, customer, tier1_staff):
    """A ticket answered, paused, resumed and resolved: outcomes, a pause and events."""
    priority = factories.PriorityFactory(service=service, code="P1", response="1h", resolution="8h")
    with time_machine.travel(OPENED, tick=False):
        ticket = services.ticket_create(
            customer=customer, service=service, priority=priority, subject="S", description="D"
        )
    with time_machine.travel(OPENED + timedelta(minutes=2, seconds=22, microseconds=304297)):
        services.ticket_reply(ticket=ticket, author=tier1_staff, body="On it")
    with time_machine.travel(OPENED + timedelta(minutes=10), tick=False):
        services.ticket_set_status(ticket=ticket, status="waiting_on_customer", by=tier1_staff)
    with time_machine.travel(OPENED + timedelta(hours=1, minutes=15), tick=False):
        services.ticket_set_status(ticket=ticket, status="open", by=tier1_staff)
    with time_machine.travel(OPENED + timedelta(hours=2), tick=False):
        services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)
    return ticket


def page_of(client, user, ticket):
    client.force_login(user)
    return client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()


def test_the_sla_log_and_timeline_speak_in_the_readers_zone(client, tier1_staff, worked_ticket):
    """With a profile zone, times read in it with its name; durations in minutes and hours;
    no ISO instants and no microseconds."""
    Profile.objects.update_or_create(user=tier1_staff, defaults={"timezone": "Europe/Berlin"})
    response = TimerOutcome.objects.get(ticket=worked_ticket, timer="response")
    assert response.delta == -timedelta(minutes=57, seconds=37, microseconds=695703)

    page = page_of(client, tier1_staff, worked_ticket)

    assert "57 min early" in page
    assert "0:57:37" not in page
    assert "5 Jan 2026 10:00 CET" in page  # opened at 09:00 UTC
    assert "until 5 Jan 2026 11:15 CET (1 h 5 min)" in page  # the pause
    assert not ISO_TEXT.search(page), ISO_TEXT.search(page)
    assert not TIMEDELTA_TEXT.search(page), TIMEDELTA_TEXT.search(page)


def test_without_a_profile_zone_the_services_zone_is_used(client, tier1_staff, worked_ticket):
    """No zone of their own: the ticket's service's zone, named."""
    worked_ticket.service.timezone = "America/New_York"
    worked_ticket.service.save(update_fields=["timezone"])
    page = page_of(client, tier1_staff, worked_ticket)
    assert "5 Jan 2026 04:00 EST" in page


def test_message_and_event_lists_show_zoned_times(client, tier1_staff, worked_ticket):
    """The conversation and audit lists read in the reader's zone too, named."""
    Profile.objects.update_or_create(user=tier1_staff, defaults={"timezone": "Europe/Berlin"})
    client.force_login(tier1_staff)
    for name in ["message", "ticketevent"]:
        page = client.get(reverse(f"admin:tickets_{name}_changelist")).content.decode()
        assert "5 Jan 2026 10:" in page and " CET<" in page, name
        assert not ISO_TEXT.search(page), name
    event = worked_ticket.events.first()
    page = client.get(reverse("admin:tickets_ticketevent_change", args=[event.pk])).content.decode()
    assert "5 Jan 2026 10:00 CET" in page
