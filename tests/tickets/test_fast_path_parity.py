"""The SLA sweep's PostgreSQL fast path writes exactly what its portable path writes.

``tickets.escalation`` writes a batch with statements whose values are bound as arrays on
PostgreSQL (``UPDATE … FROM unnest`` of the tickets, ``INSERT … FROM unnest … RETURNING`` of the
steps, ``INSERT … FROM unnest`` of the events, the emails built by the database in one
``INSERT … SELECT``, ``tickets.emails.SlaOutboxRows``) and with ``VALUES`` lists,
``bulk_create`` and the emails rendered in Python (``notifications_create_many``) elsewhere.
The same lapsed tickets are swept twice on PostgreSQL, once each way (the second after rolling
the first back), and every row written is compared.

The portable ``UPDATE … FROM (VALUES …)`` is SQLite's path: on PostgreSQL a ``VALUES`` column
whose every row is NULL is typed ``text`` and the assignment to a ``timestamptz`` column fails,
so the scenario gives every batch at least one escalation (a pickup deadline, an
``updated_at``). That is no limit on PostgreSQL in production, which always takes the fast path.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import services as outbox
from notifications.models import Notification, NotificationBody
from paging.models import Delivery
from tests import factories
from tests.core.fast_paths import portable, rows
from tickets import escalation
from tickets.models import Ticket, TicketEvent, TicketSlaStep

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATE = OPENED + timedelta(hours=2)


@pytest.fixture
def lapsed(service, customer):
    """40 tickets at Tier 1 past their response deadline (half of them assigned, some only past
    the warning), so the sweep warns, escalates, hands over and emails."""
    for level in (1, 2, 3):
        # A pickup target on every tier: each batch writes a pickup deadline (see the note on
        # all-NULL columns below).
        factories.TierFactory(service=service, level=level, name=f"Tier {level}", pickup="30m")
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
            assignee=staff[1] if n % 2 else None,
            tier_entered_at=OPENED,
            response_due_at=OPENED + timedelta(hours=1 if n % 5 else 3),
            response_warn_at=OPENED + timedelta(minutes=45),
            next_due_at=OPENED + timedelta(hours=1 if n % 5 else 3),
            next_sla_check_at=OPENED + timedelta(minutes=45),
        )
        for n in range(40)
    )
    return staff


def written():
    """Every row the sweep writes, ids left out (the two runs draw other sequence values): a
    step's id in an outbox key is replaced by the step itself, and the Message-ID made from
    that key is left out."""
    bodies = dict(NotificationBody.objects.values_list("pk", "body_text"))
    steps = {
        pk: f"{ticket}/{timer}/{step}"
        for pk, ticket, timer, step in TicketSlaStep.objects.values_list(
            "pk", "ticket_id", "timer", "step"
        )
    }

    def outbox_row(row):
        key = re.sub(r"sla-step:(\d+)", lambda m: f"sla-step:{steps[int(m[1])]}", row["key"])
        headers = {k: v for k, v in row["headers"].items() if k != "Message-ID"}
        return {**row, "key": key, "headers": headers, "body_id": bodies.get(row["body_id"])}

    return {
        "tickets": rows(Ticket, exclude=()),
        "steps": rows(TicketSlaStep),
        "events": rows(TicketEvent),
        "outbox": rows(Notification, normalise=outbox_row),
        "bodies": rows(NotificationBody),
        "pages": rows(Delivery),
    }


def sweep(now):
    with CaptureQueriesContext(connection) as queries:
        counts = escalation.escalate_lapsed_tickets(now=now, batch_size=15)
    return counts, [query["sql"] for query in queries]


def test_the_sweep_writes_the_same_rows_either_way(lapsed, time_machine):
    time_machine.move_to(LATE, tick=False)
    before = transaction.savepoint()
    fast_counts, fast_sql = sweep(LATE)
    fast = written()
    transaction.savepoint_rollback(before)
    assert not TicketSlaStep.objects.exists()

    with portable(escalation, outbox):
        portable_counts, portable_sql = sweep(LATE)
    slow = written()

    # Each run took its own path: arrays bound on PostgreSQL, VALUES lists elsewhere.
    assert any("unnest" in sql for sql in fast_sql)
    assert not any("unnest" in sql for sql in portable_sql)
    assert any("format((" in sql for sql in fast_sql)  # the emails built by PostgreSQL
    assert fast_counts == portable_counts
    assert fast_counts["escalated"] == 32 and fast_counts["warned"] == 40
    for table in fast:
        assert fast[table] == slow[table], table
    assert len(fast["outbox"]) > 0 and len(fast["events"]) > 0
