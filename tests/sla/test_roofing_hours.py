"""Roofing's shipped plan keeps the hours its seed promises (shared/seeds/002_*.txt): Tier 1
works 9 AM–6 PM Eastern, only Tier 3 is there "24/7 for critical issues". Driven by the real
sweep at pinned 2027 dates on plans/roofing-platform.yaml."""

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from sla.models import ManagementContact, Service, Tier
from tests import factories
from tickets import services
from tickets.escalation import escalate_lapsed_tickets
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

PLAN = Path(__file__).resolve().parents[2] / "plans" / "roofing-platform.yaml"
ET = ZoneInfo("America/New_York")


def et(*args):
    return datetime(*args, tzinfo=ET)


@pytest.fixture
def roofing(db):
    call_command("load_plan", str(PLAN), stdout=io.StringIO())
    return Service.objects.get(slug="roofing-platform")


@pytest.fixture
def open_ticket(roofing):
    customer = factories.CustomerFactory(services=[roofing])

    def open_ticket(priority, at):
        with time_machine.travel(at, tick=False):
            return services.ticket_create(
                customer=customer,
                service=roofing,
                priority=priority,
                subject="Schedule page slow",
                description="Loading the week takes a minute.",
            )

    return open_ticket


def sweep_through(ticket, *moments):
    for moment in moments:
        escalate_lapsed_tickets(now=moment)
    ticket.refresh_from_db()
    return ticket


def escalations(ticket):
    return list(
        ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).values_list("summary", flat=True)
    )


def test_a_p3_opened_at_five_in_the_morning_waits_for_tier_1(open_ticket):
    """P3 at 05:00 ET on Monday 4 January 2027: due 13:00 (4 business hours from 09:00), and
    nothing happens before; at 13:00 it moves up one tier, once — not to Tier 3 by 11:00."""
    ticket = open_ticket("P3", et(2027, 1, 4, 5, 0))
    assert ticket.response_due_at == et(2027, 1, 4, 13, 0)
    assert ticket.pickup_due_at == et(2027, 1, 4, 13, 0)
    sweep_through(ticket, *(et(2027, 1, 4, hour, 0) for hour in (6, 9, 10, 11, 12)))
    assert ticket.tier == 1 and escalations(ticket) == []
    sweep_through(ticket, et(2027, 1, 4, 13, 0), et(2027, 1, 4, 13, 1))
    assert ticket.tier == 2
    assert len(escalations(ticket)) == 1
    # Tier 2 then has its 2 (extended) hours to pick it up.
    assert ticket.pickup_due_at == et(2027, 1, 4, 15, 0)


def test_a_late_sweep_still_escalates_a_p3_one_tier_for_one_lapse(open_ticket):
    """Beat down from 12:00 to 13:30: the response and Tier 1's pickup lapsed together at
    13:00; the catch-up sweep escalates once (Tier 2), not twice."""
    ticket = open_ticket("P3", et(2027, 1, 4, 5, 0))
    sweep_through(ticket, et(2027, 1, 4, 13, 30))
    assert ticket.tier == 2 and len(escalations(ticket)) == 1


def test_a_p4_opened_friday_evening_is_quiet_over_the_weekend(open_ticket):
    """P4 (24 h) at Friday 8 January 2027 17:30 ET: 30 minutes Friday, 9 hours Monday and
    Tuesday, 5.5 hours Wednesday → due Wednesday 14:30; sweeps through the weekend do nothing."""
    ticket = open_ticket("P4", et(2027, 1, 8, 17, 30))
    assert ticket.response_due_at == et(2027, 1, 13, 14, 30)
    nights = [et(2027, 1, 8, 23, 0), et(2027, 1, 9, 3, 0), et(2027, 1, 10, 12, 0)]
    sweep_through(ticket, *nights, et(2027, 1, 11, 8, 59))
    assert ticket.tier == 1 and ticket.events.filter(kind=TicketEvent.Kind.SLA).count() == 0


def test_tier_3_is_not_chased_at_night_for_a_non_critical_ticket(open_ticket):
    """A P2 escalated into Tier 3 late in the day: Tier 3's "1 business hour" pickup carries
    over to the next morning instead of lapsing in the night."""
    ticket = open_ticket("P2", et(2027, 1, 4, 16, 0))
    staff = factories.StaffFactory(tier=1)
    with time_machine.travel(et(2027, 1, 4, 16, 10), tick=False):
        services.ticket_escalate(ticket=ticket, by=staff, reason="needs an engineer")
    with time_machine.travel(et(2027, 1, 4, 17, 30), tick=False):
        services.ticket_escalate(ticket=ticket, by=staff, reason="a code-level bug")
    ticket.refresh_from_db()
    assert ticket.tier == 3
    assert ticket.pickup_due_at == et(2027, 1, 5, 9, 30)


def test_a_critical_ticket_is_held_around_the_clock_in_tier_3(open_ticket):
    """P1 at 02:00 ET starts in the on-call Tier 3 and is due 02:15 (24/7); unanswered, the
    breach is recorded and Tier 3 told at 02:15 in the night."""
    ticket = open_ticket("P1", et(2027, 1, 4, 2, 0))
    assert ticket.tier == 3
    assert ticket.response_due_at == et(2027, 1, 4, 2, 15)
    sweep_through(ticket, et(2027, 1, 4, 2, 15))
    assert ticket.events.filter(
        kind=TicketEvent.Kind.SLA, summary__startswith="Service level breached"
    ).exists()


def test_the_emergency_lines_belong_to_the_tier_reachable_around_the_clock(roofing):
    """Both emergency numbers are Tier 3's contact (on call, 24/7 for critical); Tier 2 has
    no phone of its own in the seed."""
    tiers = {tier.level: tier for tier in Tier.objects.filter(service=roofing)}
    assert "1-800-ROOF-SUPPORT" in tiers[3].contact and "ROOF-911" in tiers[3].contact
    assert tiers[3].on_call
    assert "ROOF" not in tiers[2].contact and "ROOF" not in tiers[1].contact


def test_the_security_officer_is_in_the_breach_chain(roofing):
    """The seed's maintenance team contacts are the management chain, the Security Officer
    (data breach response) among them, each reachable by email from the first load."""
    policy = roofing.escalation_policy
    assert "Security Officer" in policy.management_chain
    contacts = {(c.role, c.email) for c in ManagementContact.objects.filter(service=roofing)}
    assert ("Security Officer", "security@roofingplatform.com") in contacts
    assert ("Technical Lead", "tech@roofingplatform.com") in contacts
    assert ("Operations Manager", "ops@roofingplatform.com") in contacts


def test_pickup_hours_follow_each_tier(roofing):
    """Tier 1 and Tier 3 count business hours, Tier 2 its extended hours."""
    tiers = {tier.level: tier for tier in Tier.objects.filter(service=roofing)}
    assert tiers[1].calendar.name == "business-hours"
    assert tiers[2].calendar.name == "extended-hours"
    assert tiers[3].calendar.name == "business-hours"
    assert (tiers[1].pickup, tiers[2].pickup, tiers[3].pickup) == ("4h", "2h", "1h")
