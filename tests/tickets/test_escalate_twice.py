"""Two escalations of one ticket at the same instant: one escalates, the other is refused.

Two staff clicking "Escalate" on the same ticket at the same moment (or a test's pinned clock)
asked for one move up a tier, not two: the second would page the next tier for nothing. The
record cannot tell them apart either (one ``manual/escalated`` step per ticket and instant), so
the second is refused with a message naming who escalated it and to which tier, instead of the
database's IntegrityError. An escalation a moment later is a new decision and escalates again.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from tests import factories
from tests.concurrency import run_together
from tickets import services
from tickets.models import Ticket, TicketEvent, TicketSlaStep

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _escalations(ticket):
    return TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ESCALATED).count()


@pytest.mark.django_db
def test_a_second_escalation_at_the_same_instant_is_refused_clearly(ticket):
    """The first moves the ticket to Tier 2; the second, same instant, changes nothing."""
    alice = factories.StaffFactory(tier=1, first_name="Alice", last_name="Able")
    bob = factories.StaffFactory(tier=1)
    with time_machine.travel(NOW, tick=False):
        services.ticket_escalate(ticket=ticket, by=alice, reason="needs a developer")
        with pytest.raises(ValidationError) as refused:
            services.ticket_escalate(ticket=ticket, by=bob, reason="needs a developer too")
    message = " ".join(refused.value.messages)
    assert ticket.number in message and "Tier 2" in message and "Alice Able" in message
    ticket.refresh_from_db()
    assert ticket.tier == 2
    assert _escalations(ticket) == 1
    assert TicketSlaStep.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_an_escalation_a_moment_later_escalates_again(ticket, tier1_staff):
    """Only the same instant is the same request: a second later is a new decision."""
    with time_machine.travel(NOW, tick=False):
        services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="first")
    with time_machine.travel(NOW + timedelta(seconds=1), tick=False):
        services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="second")
    ticket.refresh_from_db()
    assert ticket.tier == 3
    assert _escalations(ticket) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_escalating_concurrently_at_the_same_instant(ticket):
    """Two threads, each its own connection, same instant: one escalation, one clear refusal."""
    staff = [factories.StaffFactory(tier=1) for _ in range(2)]
    outcomes = []

    def escalate(by):
        def job():
            try:
                services.ticket_escalate(ticket=Ticket(pk=ticket.pk), by=by, reason="stuck")
                outcomes.append("escalated")
            except ValidationError as refused:
                outcomes.append(" ".join(refused.messages))

        return job

    with time_machine.travel(NOW, tick=False):
        run_together(escalate(staff[0]), escalate(staff[1]))
    assert outcomes.count("escalated") == 1
    (refusal,) = [outcome for outcome in outcomes if outcome != "escalated"]
    assert "Tier 2" in refusal
    ticket.refresh_from_db()
    assert ticket.tier == 2
    assert _escalations(ticket) == 1


@pytest.mark.django_db
def test_the_refusal_names_the_tier_even_when_the_first_reached_the_top(ticket, tier1_staff):
    """From Tier 2, the first takes it to Tier 3: the second says so, not "already at the top"."""
    ticket.tier = 2
    ticket.save(update_fields=["tier"])
    with time_machine.travel(NOW, tick=False):
        services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="first")
        with pytest.raises(ValidationError, match="escalated to Tier 3 by"):
            services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="second")
