"""Two workers delivering the same message at the same moment: one ticket.

Needs PostgreSQL: its unique index makes the second INSERT wait for the first and fail, and
its row lock makes the second worker wait for the first one's action before it looks.
"""

import pytest

from inbound.models import InboundMessage
from inbound.services import inbound_process, inbound_receive, inbound_store
from tests.concurrency import run_together
from tickets.models import Ticket

from .conftest import make_mail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_deliveries_of_one_message_open_one_ticket(client_user, workers):
    raw = make_mail(sender="ann@client.example", message_id="<race@client.example>")
    receipts = run_together(
        *[lambda: inbound_receive(raw=raw, via=InboundMessage.Via.PIPE) for _ in range(workers)]
    )
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.get().outcome == InboundMessage.Outcome.TICKET_OPENED
    assert sorted(r.duplicate for r in receipts) == [False] + [True] * (workers - 1)


@pytest.mark.postgres
def test_two_workers_acting_on_one_stored_message_open_one_ticket(client_user):
    """The sweep and a redelivery taking up the same pending row together."""
    message, _ = inbound_store(
        raw=make_mail(sender="ann@client.example"), via=InboundMessage.Via.PIPE
    )
    run_together(*[lambda: inbound_process(inbound_id=message.pk) for _ in range(3)])
    assert Ticket.objects.count() == 1
    message.refresh_from_db()
    assert message.outcome == InboundMessage.Outcome.TICKET_OPENED
