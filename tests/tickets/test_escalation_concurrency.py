"""The escalation sweep under races and crashes: every step exactly once, nothing half-done.

The threaded tests need PostgreSQL, whose row locks (``FOR UPDATE SKIP LOCKED``) keep two
workers off the same ticket; the crash test runs everywhere.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from notifications.models import Notification
from tests import factories
from tests.concurrency import run_together
from tickets import emails
from tickets.escalation import escalate_lapsed_tickets
from tickets.models import Ticket, TicketEvent, TicketSlaStep

pytestmark = pytest.mark.django_db(transaction=True)

OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATE = OPENED + timedelta(hours=2)


@pytest.fixture
def lapsed(service, customer):
    """200 tickets whose response warning and deadline have both passed, at Tier 1."""
    for level in (1, 2, 3):
        factories.TierFactory(service=service, level=level, name=f"Tier {level}")
    factories.EscalationPolicyFactory(service=service, warn_at=75)
    staff = {level: factories.StaffFactory(tier=level) for level in (1, 2, 3)}
    priority = factories.PriorityFactory(service=service, code="P1", response="1h", resolution="")
    Ticket.objects.bulk_create(
        Ticket(
            service=service,
            customer=customer,
            priority=priority,
            subject=f"Lapsed {n}",
            description="D",
            created_at=OPENED,
            updated_at=OPENED,
            tier=1,
            tier_entered_at=OPENED,
            response_due_at=OPENED + timedelta(hours=1),
            response_warn_at=OPENED + timedelta(minutes=45),
            next_due_at=OPENED + timedelta(hours=1),
            next_sla_check_at=OPENED + timedelta(minutes=45),
        )
        for n in range(200)
    )
    return staff


def assert_each_step_once(staff, n=200):
    """Every ticket warned once and escalated once, with one event and one email for each."""
    steps = Counter(TicketSlaStep.objects.values_list("ticket_id", "step"))
    assert len(steps) == 2 * n and set(steps.values()) == {1}
    events = Counter(
        TicketEvent.objects.filter(kind__in=["sla", "escalated"]).values_list("ticket_id", "kind")
    )
    assert len(events) == 2 * n and set(events.values()) == {1}
    assert Ticket.objects.filter(tier=2).count() == n
    assert Notification.objects.filter(to=staff[1].email, subject__contains="At risk").count() == n
    assert (
        Notification.objects.filter(to=staff[2].email, subject__contains="Escalated").count() == n
    )
    assert not Ticket.objects.filter(next_sla_check_at__lte=LATE).exists()


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_sweeps_act_on_every_step_exactly_once(lapsed, workers):
    """Sweeps started at the same moment share 200 lapsed tickets: nothing missed or doubled."""
    results = run_together(
        *[lambda: escalate_lapsed_tickets(now=LATE, batch_size=20) for _ in range(workers)]
    )
    assert sum(result.get("escalated", 0) for result in results) == 200
    assert sum(result.get("warned", 0) for result in results) == 200
    assert_each_step_once(lapsed)


@pytest.mark.postgres
def test_a_sweep_racing_manual_escalations_escalates_each_ticket_as_asked(lapsed):
    """Staff escalating while two sweeps run: each ticket moves once per cause, never lost."""
    from tickets import services

    ids = list(Ticket.objects.order_by("id").values_list("pk", flat=True)[:50])

    def manual():
        for pk in ids:
            services.ticket_escalate(ticket=Ticket(pk=pk), by=lapsed[2], reason="by hand")

    run_together(
        manual,
        lambda: escalate_lapsed_tickets(now=LATE, batch_size=20),
        lambda: escalate_lapsed_tickets(now=LATE, batch_size=20),
    )
    # 50 tickets: the lapsed response and the manual escalation each moved them one tier.
    assert Ticket.objects.filter(pk__in=ids, tier=3).count() == 50
    assert Ticket.objects.exclude(pk__in=ids).filter(tier=2).count() == 150
    breaches = Counter(
        TicketSlaStep.objects.filter(step="breached").values_list("ticket_id", flat=True)
    )
    assert len(breaches) == 200 and set(breaches.values()) == {1}


def test_a_crash_half_way_leaves_nothing_half_done(lapsed):
    """A worker dying mid-batch rolls the batch back whole; the next sweep finishes it once."""
    real = emails.sla_escalated
    calls = {"n": 0}

    def dies_on_the_30th(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 30:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    with (
        mock.patch.object(emails, "sla_escalated", dies_on_the_30th),
        pytest.raises(RuntimeError),
    ):
        escalate_lapsed_tickets(now=LATE, batch_size=20)
    # The first batch of 20 committed; the second (10 done in memory) rolled back whole.
    done = set(TicketSlaStep.objects.values_list("ticket_id", flat=True))
    assert len(done) == 20
    assert Ticket.objects.filter(tier=2).count() == 20
    assert set(Ticket.objects.filter(tier=2).values_list("pk", flat=True)) == done
    assert set(
        TicketEvent.objects.filter(kind="escalated").values_list("ticket_id", flat=True)
    ) == (done)
    assert Notification.objects.count() == 40

    escalate_lapsed_tickets(now=LATE, batch_size=20)
    assert_each_step_once(lapsed)
