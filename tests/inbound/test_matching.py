"""A reply to a ticket email lands on its ticket; who may write; what is never acted on."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from inbound.models import InboundMessage
from inbound.services import inbound_receive
from notifications.models import Notification
from tests import factories
from tickets import services
from tickets.mail_thread import reply_token, thread_headers
from tickets.models import Message, Ticket

from .conftest import SUPPORT, make_mail

pytestmark = pytest.mark.django_db

Outcome = InboundMessage.Outcome


def receive(raw):
    return inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message


@pytest.fixture
def open_ticket(client_user, support_service):
    return services.ticket_create(
        customer=client_user,
        service=support_service,
        priority="P3",
        subject="Export fails",
        description="It fails.",
    )


def token_address(ticket):
    return f"support+{reply_token(ticket.pk)}@localhost"


def test_a_reply_to_the_reply_to_address_is_added_to_its_ticket(open_ticket):
    """Matched by the signed token of the Reply-To plus-address."""
    message = receive(
        make_mail(sender="ann@client.example", to=token_address(open_ticket), subject="Re: hi")
    )
    assert message.outcome == Outcome.REPLY_ADDED
    assert message.ticket == open_ticket
    reply = open_ticket.messages.get()
    assert reply.author.email == "ann@client.example"
    assert not reply.internal
    assert "CSV export fails" in reply.body


def test_a_reply_is_matched_by_in_reply_to(open_ticket):
    """Matched by a Message-ID we sent, quoted back in In-Reply-To (sent to the plain address)."""
    sent_id = thread_headers(open_ticket.pk, f"ticket:{open_ticket.pk}:received")["Message-ID"]
    message = receive(
        make_mail(
            sender="ann@client.example",
            subject="Re: something else entirely",
            headers={"In-Reply-To": sent_id, "References": sent_id},
        )
    )
    assert message.outcome == Outcome.REPLY_ADDED
    assert message.ticket == open_ticket
    assert Ticket.objects.count() == 1


def test_a_reply_is_matched_by_the_ticket_number_its_sender_owns(open_ticket):
    """``[#N]`` in the subject, from the customer who owns ticket N."""
    message = receive(
        make_mail(sender="ann@client.example", subject=f"Re: [{open_ticket.number}] Export")
    )
    assert message.outcome == Outcome.REPLY_ADDED
    assert message.ticket == open_ticket


def test_a_ticket_number_from_someone_else_matches_nothing(open_ticket, support_service):
    """Another customer of the service writing ``[#N]`` does not reach ticket N: the number alone
    proves nothing, so the mail is a new ticket of theirs."""
    factories.CustomerFactory(email="eve@client.example", services=[support_service])
    message = receive(
        make_mail(sender="eve@client.example", subject=f"Re: [{open_ticket.number}] Export")
    )
    assert message.outcome == Outcome.TICKET_OPENED
    assert message.ticket != open_ticket
    assert message.ticket.customer.email == "eve@client.example"
    assert not open_ticket.messages.exists()


def test_a_stranger_using_the_reply_address_adds_nothing(open_ticket):
    """The token says which ticket, not who may write: a stranger's mail is not added."""
    message = receive(make_mail(sender="mallory@else.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.IGNORED
    assert not open_ticket.messages.exists()


def test_a_staff_reply_by_email_is_a_public_reply_and_the_first_response(open_ticket):
    """Staff answering a ticket email: a public staff reply, counted as first response."""
    staff = factories.StaffFactory(email="tom@acme.example", tier=1)
    message = receive(make_mail(sender="tom@acme.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.REPLY_ADDED
    open_ticket.refresh_from_db()
    assert open_ticket.messages.get().author == staff
    assert open_ticket.first_response_at is not None
    assert open_ticket.status == Ticket.Status.OPEN


def test_a_reply_to_a_resolved_ticket_reopens_it(open_ticket):
    staff = factories.StaffFactory(tier=1)
    services.ticket_set_status(ticket=open_ticket, status="resolved", by=staff)
    receive(make_mail(sender="ann@client.example", to=token_address(open_ticket)))
    open_ticket.refresh_from_db()
    assert open_ticket.status == Ticket.Status.OPEN
    assert open_ticket.resolved_at is None


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(open_ticket):
    """More cases (reopen window, a second reply, CCs) in test_reply_rules.py."""
    services.ticket_set_status(ticket=open_ticket, status="closed", by=open_ticket.customer)
    message = receive(make_mail(sender="ann@client.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.TICKET_OPENED
    follow_up = message.ticket
    assert follow_up != open_ticket
    assert follow_up.follow_up_of == open_ticket
    assert follow_up.description.startswith(f"Follow-up to {open_ticket.number}")
    assert not open_ticket.messages.exists()


def test_an_unknown_sender_gets_one_polite_answer_a_day(support_service):
    """No ticket for a stranger; at most one auto-answer per sender per day, marked as one."""
    for n in range(3):
        message = receive(make_mail(sender="new@prospect.example", subject=f"Hello {n}"))
        assert message.outcome == Outcome.IGNORED
    assert not Ticket.objects.exists()
    answers = Notification.objects.filter(to="new@prospect.example")
    assert answers.count() == 1
    headers = answers.get().headers
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        receive(make_mail(sender="new@prospect.example", subject="Next day"))
    assert answers.count() == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Return-Path": "<>"},
    ],
)
def test_automatic_mail_is_stored_and_ignored(client_user, support_service, headers):
    """Auto-replies and bulk mail never open tickets nor get answers (no mail loops)."""
    message = receive(make_mail(sender="ann@client.example", headers=headers))
    assert message.outcome == Outcome.IGNORED
    assert (
        "automatic" in message.reason.lower()
        or "bulk" in message.reason.lower()
        or ("bounce" in message.reason.lower())
    )
    assert not Ticket.objects.exists()
    assert not Notification.objects.exists()


def test_auto_submitted_no_is_a_person(client_user, support_service):
    message = receive(make_mail(sender="ann@client.example", headers={"Auto-Submitted": "no"}))
    assert message.outcome == Outcome.TICKET_OPENED


def test_a_bounce_is_ignored(open_ticket):
    """A delivery report (multipart/report) from MAILER-DAEMON is not a reply."""
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.client.example>\n"
        b"To: " + token_address(open_ticket).encode() + b"\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"Message-ID: <bounce-1@mx.client.example>\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nThe mail could not be delivered.\n"
        b"--B\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--B--\n"
    )
    message = receive(raw)
    assert message.outcome == Outcome.IGNORED
    assert not Message.objects.exists()
    assert not Notification.objects.filter(key__startswith="inbound:").exists()


def test_mail_from_our_own_address_is_ignored(support_service):
    """Our own auto-answer bounced back to a service address must not be answered again."""
    message = receive(make_mail(sender=SUPPORT, subject="Loop?"))
    assert message.outcome == Outcome.IGNORED
    assert not Notification.objects.exists()


def test_mail_to_no_service_address_is_ignored(client_user, support_service):
    message = receive(make_mail(sender="ann@client.example", to="someone@else.example"))
    assert message.outcome == Outcome.IGNORED
    assert not Ticket.objects.exists()
