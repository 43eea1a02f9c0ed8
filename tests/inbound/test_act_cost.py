"""What acting on a message costs, and that the cheaper path keeps its promises: a write that
fails half-way still leaves nothing behind (no savepoint around the action: the whole
transaction rolls back and the failure is recorded by a second one), and a batch pages exactly
as a single message does, though it reads the plan's paging set-up once per batch."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbound.models import InboundMessage
from inbound.services import inbound_receive, inbound_receive_many
from notifications.models import Notification
from paging.models import Delivery, Destination, OnCallPage
from sla.models import Service
from tests import factories
from tests.paging.conftest import SRE_ON_CALL_PLAN, load_plan_text
from tickets.mail_thread import reply_to_address, thread_root_id
from tickets.models import Message, Ticket, TicketEvent
from tickets.services import customer_add_service

from .conftest import make_mail

Outcome = InboundMessage.Outcome
NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
SRE = "sre@acme-support.example"

PLAN = SRE_ON_CALL_PLAN


def _refuse_outbox_inserts():
    """A database trigger that refuses every outbox row: a real write failing after the
    ticket, its event and its timers were written in the same transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON notifications_notification "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_refuse BEFORE INSERT ON notifications_notification "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )


def _allow_outbox_inserts():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS test_refuse ON notifications_notification")
            cursor.execute("DROP FUNCTION IF EXISTS test_refuse()")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS test_refuse")


@pytest.mark.django_db(transaction=True)
def test_a_write_failing_half_way_leaves_nothing_and_the_next_delivery_acts_once(
    client_user, support_service
):
    """The confirmation's INSERT fails after the ticket and its event were written: nothing
    of the action stays (no ticket, no event, no outbox row), the row stays pending with the
    failed attempt counted and its reason; delivered again once the database accepts the
    write, the message opens one ticket with one confirmation."""
    raw = make_mail(sender="ann@client.example")
    _refuse_outbox_inserts()
    try:
        receipt = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE)
    finally:
        _allow_outbox_inserts()
    message = receipt.message
    assert message.outcome == Outcome.PENDING
    assert message.attempts == 1
    assert "Attempt 1 failed" in message.reason
    assert "refused by the test" in message.reason
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()
    assert not Notification.objects.exists()

    again = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message
    assert again.pk == message.pk
    assert again.outcome == Outcome.TICKET_OPENED
    assert again.attempts == 2
    assert Ticket.objects.count() == 1
    assert Notification.objects.filter(key__endswith=":received").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_new_ticket_in_a_batch_costs_a_bounded_number_of_statements(client_user, support_service):
    """On a service that pages nobody, after the batch's first message a new ticket reads no
    rosters, no destinations and no profile, takes one savepoint (``ticket_create``'s) and
    at most 14 statements (transaction control included) — 30 before the outbox insert, the
    inbound action and the paging checks were made cheaper."""

    def act_on(count, start):
        batch = [
            make_mail(sender="ann@client.example", subject=f"Export {n}")
            for n in range(start, start + count)
        ]
        with CaptureQueriesContext(connection) as queries:
            receipts = inbound_receive_many(
                messages=[(raw, len(raw)) for raw in batch], via=InboundMessage.Via.IMAP
            )
        assert [r.message.outcome for r in receipts] == [Outcome.TICKET_OPENED] * count
        return [q["sql"] for q in queries.captured_queries]

    # A batch's fixed costs (storing it, the plan's reads) are the same for one message and
    # for three: the difference is what two more new tickets cost.
    one, three = act_on(1, 0), act_on(3, 1)
    extra = three[len(one) :] if three[: len(one)] else three
    assert (len(three) - len(one)) / 2 <= 14, "\n".join(extra)
    for table in ("sla_oncallmember", "paging_destination", "accounts_profile"):
        assert sum(f'FROM "{table}"' in sql for sql in three) <= 1, table
    assert sum(sql.startswith("SAVEPOINT") for sql in three) <= 3


@pytest.mark.django_db(transaction=True)
def test_a_reply_in_a_batch_reads_its_ticket_and_its_sender_once(
    client_user, support_service, settings
):
    """A customer's reply: the sender's row and the matched ticket are each read once, under
    their locks (matching reads them ``FOR UPDATE``, customer then ticket, and hands the ticket
    to ``ticket_reply(locked=True)``), in at most 12 statements — 14 when matching read the
    ticket and ``ticket_reply`` locked the customer and read the ticket again."""
    settings.INBOUND_ACT_THREADS = 1  # acted on this connection, where the queries are seen
    first = make_mail(sender="ann@client.example", subject="Export")
    inbound_receive_many(messages=[(first, len(first))], via=InboundMessage.Via.IMAP)
    ticket = Ticket.objects.get()

    def replies(count, start):
        batch = [
            make_mail(
                sender="ann@client.example",
                to=reply_to_address(ticket.pk),
                subject=f"Re: [#{ticket.pk}] Export",
                body=f"Still broken ({n}).\n",
                headers={"In-Reply-To": thread_root_id(ticket.pk)},
            )
            for n in range(start, start + count)
        ]
        with CaptureQueriesContext(connection) as queries:
            receipts = inbound_receive_many(
                messages=[(raw, len(raw)) for raw in batch], via=InboundMessage.Via.IMAP
            )
        assert [r.message.outcome for r in receipts] == [Outcome.REPLY_ADDED] * count
        return [q["sql"] for q in queries.captured_queries]

    one, three = replies(1, 0), replies(3, 1)
    assert Message.objects.filter(ticket=ticket, internal=False).count() == 4
    extra = three[len(one) :] if three[: len(one)] else three
    per_reply = (len(three) - len(one)) / 2
    assert per_reply <= 12, "\n".join(extra)

    def reads(table, sqls):
        return sum(sql.startswith("SELECT") and f'FROM "{table}"' in sql for sql in sqls)

    # The sender and the ticket: one read each per reply (a batch of three: three each).
    assert reads("tickets_ticket", three) == 3, "\n".join(three)
    assert reads("auth_user", three) == 3, "\n".join(three)
    if connection.vendor == "postgresql":
        locked = [sql for sql in three if sql.endswith("FOR UPDATE") or " FOR UPDATE " in sql]
        assert sum('FROM "tickets_ticket"' in sql for sql in locked) == 3
        assert sum('FROM "auth_user"' in sql for sql in locked) == 3


@pytest.fixture
def sre(db):
    load_plan_text(PLAN)
    Service.objects.filter(slug="sre").update(contact=SRE)
    service = Service.objects.get(slug="sre")
    alice = factories.StaffFactory(tier=2, email="alice@example.com", first_name="Alice")
    bob = factories.StaffFactory(tier=2, email="bob@example.com", first_name="Bob")
    factories.OnCallMemberFactory(service=service, tier_level=2, user=alice, position=0)
    factories.OnCallMemberFactory(service=service, tier_level=2, user=bob, position=1)
    Destination.objects.create(
        service=service,
        name="pd",
        kind="pagerduty",
        secret_env="TEST_ALERTS_PD",
        events=["ticket.created"],
    )
    for n in range(3):
        customer_add_service(
            customer=factories.CustomerFactory(email=f"c{n}@client.example"), service=service
        )
    return service


def _paged(ticket):
    return (
        OnCallPage.objects.filter(key=f"ticket:{ticket.pk}:created").count(),
        Delivery.objects.filter(key__startswith=f"ticket:{ticket.pk}:created:").count(),
    )


@pytest.mark.django_db
def test_a_batch_pages_the_on_call_tier_and_the_destinations_as_one_message_does(sre):
    """A P0 by email lands in the on-call tier: one on-call page to the primary and one
    PagerDuty delivery, whether it came alone (``inbound_receive``: the pages read the plan)
    or in a batch (``inbound_receive_many``: whether the service pages anyone is read once
    for the batch); a P2 in a tier not on call pages no rotation."""
    with time_machine.travel(NOW, tick=False):
        alone = inbound_receive(
            raw=make_mail(sender="c0@client.example", to=SRE, subject="[P0] Down"), via="pipe"
        ).message.ticket
        batch = [
            make_mail(sender="c1@client.example", to=SRE, subject="[P0] Down too"),
            make_mail(sender="c2@client.example", to=SRE, subject="[P0] Still down"),
            make_mail(sender="c2@client.example", to=SRE, subject="[P2] A question"),
        ]
        receipts = inbound_receive_many(messages=[(raw, len(raw)) for raw in batch], via="imap")
    tickets = [receipt.message.ticket for receipt in receipts]
    assert [ticket.tier for ticket in [alone, *tickets]] == [2, 2, 2, 1]
    assert _paged(alone) == (1, 1)
    assert [_paged(ticket) for ticket in tickets] == [(1, 1), (1, 1), (0, 1)]
    assert OnCallPage.objects.values_list("primary__email", flat=True).distinct().count() == 1
