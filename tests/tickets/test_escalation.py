"""The escalation sweep: warn once, escalate once, pickup, management chain, on-call, catch-up."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from sla import tasks
from tests import factories
from tickets import services
from tickets.escalation import escalate_lapsed_tickets
from tickets.models import Ticket, TicketEvent, TicketSlaStep

pytestmark = pytest.mark.django_db

OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def plan(service):
    """Three tiers (Tier 2 must pick up within 30 m, Tier 3 on call), warnings at 75 %."""
    factories.TierFactory(service=service, level=1, name="Helpdesk")
    factories.TierFactory(service=service, level=2, name="Dev", pickup="30m")
    factories.TierFactory(service=service, level=3, name="SRE", on_call=True)
    return factories.EscalationPolicyFactory(
        service=service,
        warn_at=75,
        management_chain=["Tech Lead", "Project Manager", "Sponsor"],
        management_interval="1h",
        on_call_handoff="mon 09:00",
        on_call_layers=["primary", "secondary"],
    )


@pytest.fixture
def staff(tier_groups):
    return {level: factories.StaffFactory(tier=level) for level in (1, 2, 3)}


@pytest.fixture
def open_ticket(plan, service, customer):
    def open_ticket(*, response="1h", resolution="8h", at=OPENED, **priority):
        prio = factories.PriorityFactory(
            service=service, code="P1", response=response, resolution=resolution, **priority
        )
        with time_machine.travel(at, tick=False):
            return services.ticket_create(
                customer=customer, service=service, priority=prio, subject="S", description="D"
            )

    return open_ticket


def sweep(at, **kwargs):
    return escalate_lapsed_tickets(now=at, **kwargs)


def sent_to(address, template_subject_part=None):
    rows = Notification.objects.filter(to=address)
    if template_subject_part:
        rows = rows.filter(subject__contains=template_subject_part)
    return rows.count()


def test_an_at_risk_notice_goes_to_the_tier_once(open_ticket, staff):
    """At 75 % of the response hour the unassigned ticket's tier hears it is at risk, once."""
    ticket = open_ticket()
    assert sweep(OPENED + timedelta(minutes=44)) == {}
    sweep(OPENED + timedelta(minutes=45))
    sweep(OPENED + timedelta(minutes=46))
    assert sent_to(staff[1].email, "At risk") == 1
    assert ticket.events.filter(kind=TicketEvent.Kind.SLA, summary__startswith="At risk").count()
    ticket.refresh_from_db()
    assert ticket.tier == 1
    assert ticket.next_sla_check_at == ticket.response_due_at


def test_an_assigned_ticket_warns_its_assignee_only(open_ticket, staff):
    ticket = open_ticket()
    services.ticket_assign(ticket=ticket, assignee=staff[1], by=staff[1])
    other = factories.StaffFactory(tier=1)
    sweep(OPENED + timedelta(minutes=50))
    assert sent_to(staff[1].email, "At risk") == 1
    assert sent_to(other.email, "At risk") == 0


def test_a_lapsed_response_escalates_one_tier_once(open_ticket, staff):
    """Breach → Tier 2, an "escalated" event by the system, Tier 2 emailed; once."""
    ticket = open_ticket()
    sweep(OPENED + timedelta(minutes=61))
    sweep(OPENED + timedelta(minutes=62))
    ticket.refresh_from_db()
    assert ticket.tier == 2
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.actor is None and "first response deadline" in event.summary
    assert sent_to(staff[2].email, "Escalated to Tier 2") == 1
    assert ticket.tier_entered_at == OPENED + timedelta(minutes=61)
    assert ticket.pickup_due_at == OPENED + timedelta(minutes=91)


def test_the_contract_task_runs_the_sweep(open_ticket, staff):
    ticket = open_ticket()
    with time_machine.travel(OPENED + timedelta(minutes=61), tick=False):
        tasks.escalate_lapsed_tickets.apply()
    ticket.refresh_from_db()
    assert ticket.tier == 2


def test_a_tier_that_does_not_pick_up_in_time_escalates_again(open_ticket, staff):
    """Tier 2 has 30 minutes to assign or answer; it does not, so Tier 3 gets the ticket."""
    ticket = open_ticket(resolution="")
    sweep(OPENED + timedelta(minutes=61))
    sweep(OPENED + timedelta(minutes=90))
    ticket.refresh_from_db()
    assert ticket.tier == 2
    sweep(OPENED + timedelta(minutes=91))
    ticket.refresh_from_db()
    assert ticket.tier == 3
    assert "not picked up by Tier 2" in ticket.events.filter(kind="escalated").last().summary


def test_picking_up_stops_the_pickup_timer(open_ticket, staff):
    ticket = open_ticket(resolution="")
    sweep(OPENED + timedelta(minutes=61))
    with time_machine.travel(OPENED + timedelta(minutes=70), tick=False):
        services.ticket_assign(ticket=ticket, assignee=staff[2], by=staff[2])
    sweep(OPENED + timedelta(hours=5))
    ticket.refresh_from_db()
    assert ticket.tier == 2 and ticket.pickup_due_at is None


def test_at_the_top_tier_a_breach_is_recorded_and_notified(open_ticket, staff, service):
    ticket = open_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(tier=3)
    sweep(OPENED + timedelta(minutes=61))
    ticket.refresh_from_db()
    assert ticket.tier == 3
    event = ticket.events.get(kind=TicketEvent.Kind.SLA, summary__contains="top tier")
    assert event.actor is None
    assert sent_to(staff[3].email, "Breached at Tier 3") == 1


def test_an_on_call_tier_is_reached_through_its_rotation(open_ticket, staff, service):
    """Escalated into on-call Tier 3: its primary and secondary are emailed, nobody else."""
    rota = [factories.StaffFactory(tier=3) for _ in range(3)]
    for position, user in enumerate(rota):
        factories.OnCallMemberFactory(service=service, tier_level=3, user=user, position=position)
    ticket = open_ticket(resolution="")
    Ticket.objects.filter(pk=ticket.pk).update(tier=2)
    sweep(OPENED + timedelta(minutes=61))
    ticket.refresh_from_db()
    assert ticket.tier == 3
    told = [user for user in rota if sent_to(user.email, "Escalated")]
    assert len(told) == 2
    assert sent_to(staff[3].email) == 0


def test_an_override_takes_the_primary_layer(open_ticket, staff, service):
    rota = [factories.StaffFactory(tier=3) for _ in range(2)]
    for position, user in enumerate(rota):
        factories.OnCallMemberFactory(service=service, tier_level=3, user=user, position=position)
    stand_in = factories.StaffFactory(tier=3)
    factories.OnCallOverrideFactory(
        service=service,
        tier_level=3,
        layer="primary",
        user=stand_in,
        starts_at=OPENED,
        ends_at=OPENED + timedelta(days=1),
    )
    ticket = open_ticket(resolution="")
    Ticket.objects.filter(pk=ticket.pk).update(tier=2)
    sweep(OPENED + timedelta(minutes=61))
    assert sent_to(stand_in.email, "Escalated") == 1


def test_management_chain_one_role_per_interval_while_unresolved(open_ticket, staff, service):
    """Role 1 at the breach, role 2 an interval later; resolving stops the chain."""
    lead = factories.ManagementContactFactory(service=service, role="Tech Lead")
    pm = factories.ManagementContactFactory(service=service, role="Project Manager")
    sponsor = factories.ManagementContactFactory(service=service, role="Sponsor")
    ticket = open_ticket(response="1h", resolution="2h", notify_management=True)
    with time_machine.travel(OPENED + timedelta(minutes=5), tick=False):
        services.ticket_reply(ticket=ticket, author=staff[1], body="Looking")
    due = OPENED + timedelta(hours=2)
    sweep(due - timedelta(seconds=1))
    assert sent_to(lead.email) == 0
    sweep(due)
    sweep(due + timedelta(minutes=30))
    assert (sent_to(lead.email), sent_to(pm.email)) == (1, 0)
    sweep(due + timedelta(hours=1))
    assert (sent_to(lead.email), sent_to(pm.email)) == (1, 1)
    with time_machine.travel(due + timedelta(hours=1, minutes=30), tick=False):
        services.ticket_set_status(ticket=ticket, status="resolved", by=staff[2])
    sweep(due + timedelta(hours=3))
    assert sent_to(sponsor.email) == 0
    steps = TicketSlaStep.objects.filter(ticket=ticket, step__startswith="management")
    assert sorted(steps.values_list("step", flat=True)) == ["management_1", "management_2"]


def test_priorities_without_notify_management_do_not_reach_management(open_ticket, staff, service):
    lead = factories.ManagementContactFactory(service=service, role="Tech Lead")
    open_ticket(resolution="2h")
    sweep(OPENED + timedelta(hours=5))
    assert sent_to(lead.email) == 0


def test_manual_escalation_uses_the_same_path(open_ticket, staff):
    """Staff escalation records who and why, resets the new tier's pickup, and tells it."""
    ticket = open_ticket(resolution="")
    later = OPENED + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        services.ticket_escalate(ticket=ticket, by=staff[1], reason="Needs a developer")
    ticket.refresh_from_db()
    assert ticket.tier == 2
    assert ticket.pickup_due_at == later + timedelta(minutes=30)
    step = TicketSlaStep.objects.get(ticket=ticket, timer="manual")
    assert (step.actor, step.detail) == (staff[1], "Needs a developer")
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.actor == staff[1] and event.data["reason"] == "Needs a developer"
    assert sent_to(staff[2].email, "Escalated to Tier 2") == 1
    assert ticket.next_sla_check_at == later + timedelta(minutes=30)  # Tier 2's pickup


def test_catch_up_after_beat_was_down_acts_once_in_order(open_ticket, staff):
    """Beat down for hours: one sweep warns, then escalates, once each, in that order."""
    ticket = open_ticket(resolution="")
    sweep(OPENED + timedelta(minutes=70))
    sweep(OPENED + timedelta(minutes=70))
    steps = list(
        TicketSlaStep.objects.filter(ticket=ticket).order_by("id").values_list("timer", "step")
    )
    assert steps == [("response", "warned"), ("response", "breached")]
    kinds = list(ticket.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "sla", "escalated"]
    assert sent_to(staff[1].email, "At risk") == 1
    assert sent_to(staff[2].email, "Escalated") == 1


def test_a_sweep_with_nothing_due_does_one_query(open_ticket, staff):
    open_ticket()
    with CaptureQueriesContext(connection) as queries:
        assert sweep(OPENED + timedelta(minutes=1)) == {}
    selects = [q for q in queries.captured_queries if "tickets_ticket" in q["sql"]]
    assert len(selects) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("batch_size", [500])
def test_query_count_per_batch_does_not_grow_with_tickets(
    plan, service, customer, staff, batch_size
):
    """10 or 100 lapsed tickets in one batch cost the same number of queries.

    PostgreSQL only: SQLite's limit of 999 parameters a statement makes Django split the bulk
    writes into more statements as the batch grows.
    """
    prio = factories.PriorityFactory(service=service, code="P1", response="1h", resolution="")
    factories.ManagementContactFactory(service=service, role="Tech Lead")

    def lapsed(n):
        with time_machine.travel(OPENED, tick=False):
            for _ in range(n):
                services.ticket_create(
                    customer=customer, service=service, priority=prio, subject="S", description="D"
                )

    def count(at):
        with CaptureQueriesContext(connection) as queries:
            result = sweep(at, batch_size=batch_size)
        return len(queries.captured_queries), result

    lapsed(10)
    few, result = count(OPENED + timedelta(minutes=61))
    assert result["escalated"] == 10
    lapsed(100)
    many, result = count(OPENED + timedelta(minutes=61))
    assert result["escalated"] == 100
    assert few == many


def test_a_warning_keeps_the_tickets_updated_at_and_an_escalation_moves_it(open_ticket, staff):
    """The sweep does not read ``updated_at``: a ticket it only warned keeps the stored one, a
    ticket it escalated shows the sweep's time."""
    ticket = open_ticket()
    stored = Ticket.objects.get(pk=ticket.pk).updated_at
    sweep(OPENED + timedelta(minutes=45))
    ticket.refresh_from_db()
    assert ticket.updated_at == stored
    sweep(OPENED + timedelta(minutes=61))
    ticket.refresh_from_db()
    assert ticket.updated_at == OPENED + timedelta(minutes=61)


@pytest.mark.postgres
def test_tickets_lapsing_at_one_instant_are_read_without_sorting_them_all(open_ticket, staff):
    """Many tickets lapsing together (one deadline for all) are locked a batch at a time in
    the order of the ``next_sla_check_at`` index, so each batch's read stops after its rows:
    ordered by id within the instant, every batch read and sorted all of them."""
    for _ in range(6):
        open_ticket()
    with CaptureQueriesContext(connection) as queries:
        result = sweep(OPENED + timedelta(minutes=61), batch_size=2)
    assert result["escalated"] == 6 and result["batches"] == 3
    (read, *_) = [q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the index, as on a large table
        cursor.execute(f"EXPLAIN {read}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_sla_check" in plan
    assert "Sort" not in plan, plan
