"""The whole email round trip with real servers: Dovecot (IMAP) in, aiosmtpd (SMTP) out.

A customer mails the support address → fetch_mail → a ticket; staff reply → the outbox sweep
delivers over SMTP with the threading headers → the customer answers that email (fed back
through IMAP) → the answer lands on the same ticket.
"""

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import pytest

from inbound.models import InboundMessage
from inbound.tasks import fetch_mail
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tests.smtp_servers import smtp_server_on_loopback
from tickets.mail_thread import thread_root_id
from tickets.models import Ticket
from tickets.services import ticket_reply

from .conftest import SUPPORT, make_mail

pytestmark = [pytest.mark.imap, pytest.mark.django_db(transaction=True)]


class _Inbox:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.received.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"

    def messages(self):
        return [
            (rcpt, message_from_bytes(content, policy=policy.default))
            for rcpt, content in self.received
        ]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a spare loopback port, and the portal's mail pointed at it."""
    with smtp_server_on_loopback(_Inbox(), settings) as inbox:
        yield inbox


def test_mail_in_staff_reply_out_over_smtp_and_the_answer_back_on_the_same_ticket(
    imap_url, imap_box, smtp_server, client_user, support_service
):
    """The journey the issue names, with every header a mail client threads by."""
    first_id = make_msgid(domain="client.example")
    imap_box.append(
        make_mail(
            sender="Ann <ann@client.example>",
            to=SUPPORT,
            subject="Invoices do not load",
            message_id=first_id,
        ),
        "INBOX",
    )
    fetch_mail()
    ticket = Ticket.objects.get()
    assert ticket.customer == client_user and ticket.subject == "Invoices do not load"

    staff = factories.StaffFactory(tier=1, email="sam@portal.example")
    ticket_reply(ticket=ticket, author=staff, body="We are on it: a fix is rolling out now.")
    notifications_send_due()

    delivered = smtp_server.messages()
    assert {rcpt[0] for rcpt, _ in delivered} == {"ann@client.example"}
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()
    confirmation = next(m for _, m in delivered if m["In-Reply-To"] == first_id)
    reply = next(
        m
        for _, m in delivered
        if "a fix is rolling out" in m.get_body(preferencelist=("plain",)).get_content()
    )
    root = thread_root_id(ticket.pk)
    assert root in confirmation["References"]
    assert reply["Message-ID"].startswith(f"<ticket-{ticket.pk}-")
    assert reply["In-Reply-To"] == root
    assert root in reply["References"]
    reply_to = parseaddr(str(reply["Reply-To"]))[1]
    assert reply_to.startswith("support+") and reply_to.endswith("@portal.example")

    # The customer answers the staff reply from their mail client: to its Reply-To, quoting it.
    answer = EmailMessage()
    answer["From"] = "Ann <ann@client.example>"
    answer["To"] = reply_to
    answer["Subject"] = f"Re: {reply['Subject']}"
    answer["Message-ID"] = make_msgid(domain="client.example")
    answer["In-Reply-To"] = reply["Message-ID"]
    answer["References"] = f"{reply['References']} {reply['Message-ID']}"
    answer.set_content(
        "Thanks, it works again.\n\nOn Wed, Sam wrote:\n> We are on it: a fix is rolling out now.\n"
    )
    imap_box.append(answer.as_bytes(), "INBOX")
    fetch_mail()

    inbound = InboundMessage.objects.get(message_id=answer["Message-ID"])
    assert inbound.outcome == InboundMessage.Outcome.REPLY_ADDED
    assert inbound.ticket == ticket
    assert Ticket.objects.count() == 1
    last = ticket.messages.order_by("created_at", "id").last()
    assert last.author == client_user
    assert last.body == "Thanks, it works again."
