"""SLA timers on tickets: deadlines, first response, pauses, stops and priority changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests import factories
from tickets import services
from tickets.escalation import escalate_lapsed_tickets
from tickets.models import Ticket, TicketEvent, TimerOutcome

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def ny(*args):
    return datetime(*args, tzinfo=NY)


@pytest.fixture
def business_hours(service):
    return factories.CalendarFactory(service=service, name="business-hours")


@pytest.fixture
def make(service, customer):
    """Open a ticket through the service at ``at`` with a priority of the given targets."""

    def make(at, *, code="P2", response="1h", resolution="", calendar=None, **priority):
        prio = factories.PriorityFactory(
            service=service,
            code=code,
            response=response,
            resolution=resolution,
            calendar=calendar,
            **priority,
        )
        with time_machine.travel(at, tick=False):
            return services.ticket_create(
                customer=customer, service=service, priority=prio, subject="S", description="D"
            )

    return make


def at(moment, fn, **kwargs):
    with time_machine.travel(moment, tick=False):
        return fn(**kwargs)


def set_status(moment, ticket, status, *, by):
    return at(moment, services.ticket_set_status, ticket=ticket, status=status, by=by)


def reply(moment, ticket, body, *, author, **kwargs):
    return at(moment, services.ticket_reply, ticket=ticket, author=author, body=body, **kwargs)


def test_friday_evening_ticket_is_due_monday_morning(make, business_hours):
    """1 h on Mon–Fri 09:00–18:00 New York, opened Friday 17:55 → due Monday 09:55 local."""
    ticket = make(ny(2026, 1, 9, 17, 55), calendar=business_hours)
    assert ticket.response_due_at == ny(2026, 1, 12, 9, 55)


def test_friday_evening_ticket_across_the_us_dst_start(make, business_hours):
    """Across the weekend when US DST begins (8 March 2026): still Monday 09:55 local (EDT)."""
    ticket = make(ny(2026, 3, 6, 17, 55), calendar=business_hours)
    assert ticket.response_due_at == ny(2026, 3, 9, 9, 55)
    assert ticket.response_due_at == datetime(2026, 3, 9, 13, 55, tzinfo=UTC)


def test_a_ticket_opened_on_a_holiday_counts_from_the_next_opening(make, business_hours):
    """Opened on Christmas Day (a Friday holiday): the hour counts from Monday 09:00."""
    factories.HolidayFactory(calendar=business_hours, date=datetime(2026, 12, 25).date())
    ticket = make(ny(2026, 12, 25, 10, 0), calendar=business_hours)
    assert ticket.response_due_at == ny(2026, 12, 28, 10, 0)


def test_a_ticket_opened_at_night_counts_from_the_next_opening(make, business_hours):
    ticket = make(ny(2026, 1, 13, 22, 0), calendar=business_hours)
    assert ticket.response_due_at == ny(2026, 1, 14, 10, 0)


def test_a_24_7_priority_counts_plain_elapsed_time(make):
    """No calendar is 24/7: 15 minutes after a Saturday 03:10 opening is 03:25."""
    opened = datetime(2026, 1, 10, 3, 10, tzinfo=UTC)
    ticket = make(opened, response="15m", resolution="4h")
    assert ticket.response_due_at == opened + timedelta(minutes=15)
    assert ticket.resolution_due_at == opened + timedelta(hours=4)


def test_business_days_resolution(make, business_hours):
    """2bd: the same local time on the second following open day."""
    ticket = make(ny(2026, 1, 9, 10, 30), resolution="2bd", calendar=business_hours)
    assert ticket.resolution_due_at == ny(2026, 1, 13, 10, 30)


def test_no_resolution_target_means_no_resolution_timer(make):
    ticket = make(datetime(2026, 1, 5, 9, tzinfo=UTC), resolution="")
    assert ticket.resolution_due_at is None
    assert ticket.response_due_at is not None


def test_warning_instant_is_warn_at_of_the_open_time(make, business_hours, service):
    """75 % of a 4 h timer opened Friday 16:00 falls on Monday 10:00 (2 h Fri + 1 h Mon)."""
    factories.EscalationPolicyFactory(service=service, warn_at=75)
    ticket = make(ny(2026, 1, 9, 16, 0), response="4h", calendar=business_hours)
    assert ticket.response_due_at == ny(2026, 1, 12, 11, 0)
    assert ticket.response_warn_at == ny(2026, 1, 12, 10, 0)
    assert ticket.next_sla_check_at == ticket.response_warn_at


def test_first_staff_reply_meets_the_response_timer(make, tier1_staff):
    """The first public staff reply stops the response timer and records it met."""
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, response="1h")
    reply(opened + timedelta(minutes=20), ticket, "On it", author=tier1_staff)
    ticket.refresh_from_db()
    assert ticket.first_response_at == opened + timedelta(minutes=20)
    assert ticket.response_met is True
    assert ticket.response_due_at is None  # "null … once met"
    outcome = TimerOutcome.objects.get(ticket=ticket, timer="response")
    assert outcome.met and outcome.delta == -timedelta(minutes=40)


def test_a_late_first_reply_is_recorded_as_missed(make, tier1_staff):
    """A reply after the deadline: missed, and by how much open time."""
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, response="1h")
    reply(opened + timedelta(minutes=90), ticket, "Sorry", author=tier1_staff)
    ticket.refresh_from_db()
    assert ticket.response_met is False
    outcome = TimerOutcome.objects.get(ticket=ticket, timer="response")
    assert not outcome.met and outcome.delta == timedelta(minutes=30)


def test_internal_notes_and_customer_replies_are_not_a_first_response(make, tier1_staff):
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, response="1h")
    reply(opened, ticket, "n", author=tier1_staff, internal=True)
    reply(opened, ticket, "more", author=ticket.customer)
    ticket.refresh_from_db()
    assert ticket.response_met is None and ticket.response_due_at is not None


def test_waiting_on_customer_pauses_and_the_reply_pushes_the_deadline(
    make, business_hours, tier1_staff
):
    """Paused Mon 10:00 → customer replies Tue 10:00: 9 h of open time are added (8 h due
    Mon 17:00 becomes Tue 17:00: 1 h used before the pause, 7 h left after it)."""
    ticket = make(ny(2026, 1, 12, 9, 0), resolution="8h", calendar=business_hours)
    assert ticket.resolution_due_at == ny(2026, 1, 12, 17, 0)
    set_status(ny(2026, 1, 12, 10, 0), ticket, "waiting_on_customer", by=tier1_staff)
    ticket.refresh_from_db()
    assert ticket.paused_at == ny(2026, 1, 12, 10, 0)
    assert ticket.next_sla_check_at is not None  # the response timer still runs
    reply(ny(2026, 1, 13, 10, 0), ticket, "Here you go", author=ticket.customer)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.paused_at is None
    assert ticket.resolution_due_at == ny(2026, 1, 13, 17, 0)


def test_staff_moving_it_on_also_resumes(make, tier1_staff):
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, resolution="4h")
    set_status(opened + timedelta(hours=1), ticket, "waiting_on_customer", by=tier1_staff)
    set_status(opened + timedelta(hours=3), ticket, "open", by=tier1_staff)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == opened + timedelta(hours=6)


def test_no_resolution_steps_fall_due_while_paused(make, tier1_staff):
    """A paused ticket past its (frozen) resolution deadline is not escalated for it."""
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, response="1h", resolution="2h")
    reply(opened + timedelta(minutes=10), ticket, "Can you send logs?", author=tier1_staff)
    set_status(opened + timedelta(minutes=11), ticket, "waiting_on_customer", by=tier1_staff)
    escalate_lapsed_tickets(now=opened + timedelta(days=2))
    ticket.refresh_from_db()
    assert ticket.tier == 1
    assert ticket.next_sla_check_at is None


def test_resolving_stops_and_reopening_resumes_with_the_time_used(make, tier1_staff):
    """4 h on 24/7, resolved after 1 h, reopened 2 h later: due 2 h after the old deadline."""
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, resolution="4h")
    set_status(opened + timedelta(hours=1), ticket, "resolved", by=tier1_staff)
    ticket.refresh_from_db()
    assert ticket.resolution_met is True
    assert ticket.resolution_due_at is None and ticket.next_sla_check_at is None
    outcome = TimerOutcome.objects.get(ticket=ticket, timer="resolution")
    assert outcome.met and outcome.delta == -timedelta(hours=3)
    reply(opened + timedelta(hours=3), ticket, "Still broken", author=ticket.customer)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.resolution_met is None
    assert ticket.resolution_due_at == opened + timedelta(hours=6)


def test_resolving_late_records_a_breach_by_how_much(make, tier1_staff):
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, resolution="4h")
    set_status(opened + timedelta(hours=5), ticket, "closed", by=tier1_staff)
    outcome = TimerOutcome.objects.get(ticket=ticket, timer="resolution")
    assert not outcome.met and outcome.delta == timedelta(hours=1)
    assert outcome.ended_by == "closed"


def test_raising_p3_to_p0_after_30_minutes_is_due_at_creation_plus_15(
    make, service, tier1_staff, tier2_staff
):
    """Recomputed from creation with the new targets: immediately due, the next sweep breaches."""
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, code="P3", response="8h", resolution="5d")
    p0 = factories.PriorityFactory(service=service, code="P0", response="15m", resolution="4h")
    later = opened + timedelta(minutes=30)
    at(later, services.ticket_set_priority, ticket=ticket, priority=p0, by=tier1_staff)
    ticket.refresh_from_db()
    assert ticket.response_due_at == opened + timedelta(minutes=15)
    assert ticket.resolution_due_at == opened + timedelta(hours=4)
    assert ticket.next_sla_check_at <= later
    escalate_lapsed_tickets(now=later + timedelta(seconds=30))
    ticket.refresh_from_db()
    assert ticket.tier == 2
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATED, actor=None).count() == 1


def test_priority_change_subtracts_paused_time(make, service, tier1_staff):
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ticket = make(opened, code="P3", resolution="8h")
    set_status(opened + timedelta(hours=1), ticket, "waiting_on_customer", by=tier1_staff)
    set_status(opened + timedelta(hours=3), ticket, "open", by=tier1_staff)
    p1 = factories.PriorityFactory(service=service, code="P1", response="1h", resolution="4h")
    at(
        opened + timedelta(hours=4),
        services.ticket_set_priority,
        ticket=ticket,
        priority=p1,
        by=tier1_staff,
    )
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == opened + timedelta(hours=6)
