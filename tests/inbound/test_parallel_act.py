"""A fetched batch acted on by several threads (``INBOUND_ACT_THREADS``, PostgreSQL): every
message has one effect, one sender's mail keeps its order, and two pollers handing in the same
batch at once still act once per message."""

import threading

import pytest

from inbound import services as inbound_services
from inbound.models import InboundMessage
from inbound.services import inbound_receive_many
from tests import factories
from tests.concurrency import run_together
from tickets import services
from tickets.mail_thread import reply_to_address
from tickets.models import Message, Ticket

from .conftest import make_mail

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

Outcome = InboundMessage.Outcome
SENDERS = [f"c{n}@client.example" for n in range(6)]


@pytest.fixture
def customers(support_service):
    return [factories.CustomerFactory(email=email, services=[support_service]) for email in SENDERS]


def _batch(customers, support_service):
    """Per sender: a new ticket, then three replies to an older ticket of theirs, in order."""
    batch = []
    for customer in customers:
        older = services.ticket_create(
            customer=customer,
            service=support_service,
            priority="P3",
            subject="Older",
            description="x",
        )
        batch.append(make_mail(sender=customer.email, subject=f"New from {customer.email}"))
        for n in range(3):
            batch.append(
                make_mail(
                    sender=customer.email,
                    to=reply_to_address(older.pk),
                    subject="Re: Older",
                    body=f"reply {n}\n",
                )
            )
    return [(raw, len(raw)) for raw in batch]


def test_a_batch_is_acted_on_by_several_threads_once_each_in_order(
    customers, support_service, settings, monkeypatch
):
    """Several threads at once; each sender's messages all in one thread, in the order
    received; one effect each."""
    settings.INBOUND_ACT_THREADS = 3
    calls = []  # (thread, inbound message id), in the order acted on
    process = inbound_services.inbound_process

    def recording(**kwargs):
        calls.append((threading.get_ident(), kwargs["inbound_id"]))
        return process(**kwargs)

    monkeypatch.setattr(inbound_services, "inbound_process", recording)
    batch = _batch(customers, support_service)
    receipts = inbound_receive_many(messages=batch, via=InboundMessage.Via.IMAP)

    assert len({thread for thread, _pk in calls}) > 1  # really in parallel
    sender_of = dict(InboundMessage.objects.values_list("pk", "sender"))
    for customer in customers:
        mine = [(thread, pk) for thread, pk in calls if sender_of[pk] == customer.email]
        assert len({thread for thread, _pk in mine}) == 1, customer.email
        assert [pk for _thread, pk in mine] == sorted(pk for _thread, pk in mine)
    expected = [Outcome.TICKET_OPENED, *[Outcome.REPLY_ADDED] * 3] * len(customers)
    assert [r.message.outcome for r in receipts] == expected
    assert Ticket.objects.count() == 2 * len(customers)
    for customer in customers:
        bodies = Message.objects.filter(author=customer).order_by("created_at", "pk")
        assert list(bodies.values_list("body", flat=True)) == ["reply 0", "reply 1", "reply 2"]


def test_two_pollers_with_the_same_batch_act_once_per_message(customers, support_service, settings):
    settings.INBOUND_ACT_THREADS = 3
    batch = _batch(customers, support_service)
    run_together(*[lambda: inbound_receive_many(messages=batch, via=InboundMessage.Via.IMAP)] * 2)
    assert InboundMessage.objects.count() == len(batch)
    assert not InboundMessage.objects.filter(outcome=Outcome.PENDING).exists()
    assert Ticket.objects.count() == 2 * len(customers)
    assert Message.objects.count() == 3 * len(customers)
