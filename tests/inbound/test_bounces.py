"""Delivery reports mark an address bouncing; auto-answers are capped per service per hour."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from inbound.models import InboundMessage
from inbound.services import inbound_receive
from notifications.delivery import notifications_send_due
from notifications.models import Notification, SuppressedAddress
from notifications.services import notification_create
from tests import factories
from tickets.mail_thread import message_id as ticket_message_id

from .conftest import make_mail

pytestmark = pytest.mark.django_db

ANN = "ann@client.example"


def receive(raw):
    return inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message


def make_dsn(*, failed, original_message_id, action="failed", status="5.1.1"):
    """A Postfix-style RFC 3464 report: the human part, the status fields, the headers of the
    returned message."""
    return f"""From: MAILER-DAEMON@mx.client.example (Mail Delivery System)
To: support@localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{abs(hash((failed, original_message_id, action)))}@mx.client.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.client.example. Your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.client.example
Arrival-Date: Wed,  2 Dec 2026 10:00:00 +0000 (UTC)

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{failed}>: Recipient address rejected: User unknown

--BOUNDARY
Content-Type: text/rfc822-headers

From: Support Portal <support@localhost>
To: {failed}
Subject: [#1] Your ticket
Message-ID: {original_message_id}

--BOUNDARY--
""".encode()


@pytest.fixture
def ticket(client_user, support_service):
    return factories.TicketFactory(
        customer=client_user, service=support_service, priority=support_service.priorities.last()
    )


def _email_to(address, key):
    return notification_create(
        key=key, to=address, template="inbound/unknown_sender", context=_context()
    )


def _context():
    return {"service": "ACME", "sender": ANN, "subject": "x", "ticket_number": "", "signup_url": ""}


def test_a_bounce_of_our_ticket_email_stops_the_outbox_sending_to_that_address(ticket):
    """A permanent failure reported for one of our (signed) ticket Message-IDs: the address
    is suppressed, its pending email and any later one are not sent ("suppressed")."""
    waiting = _email_to(ANN, "test:waiting")
    message = receive(
        make_dsn(failed=ANN, original_message_id=ticket_message_id(ticket.pk, "abc123"))
    )
    assert message.outcome == InboundMessage.Outcome.IGNORED
    assert "marked bouncing" in message.reason
    assert SuppressedAddress.objects.filter(address=ANN).exists()
    waiting.refresh_from_db()
    assert waiting.status == Notification.Status.SUPPRESSED

    later = _email_to(ANN, "test:later")
    other = _email_to("bob@client.example", "test:other")
    mail.outbox.clear()
    notifications_send_due()
    later.refresh_from_db()
    other.refresh_from_db()
    assert later.status == Notification.Status.SUPPRESSED
    assert "bounces" in later.last_error
    assert other.status == Notification.Status.SENT
    assert [m.to for m in mail.outbox] == [["bob@client.example"]]


@pytest.mark.parametrize(
    "dsn",
    [
        # A Message-ID that looks like ours but is not signed by us: forged.
        lambda t: make_dsn(failed=ANN, original_message_id=f"<ticket-{t.pk}-abc-{'0' * 20}@x>"),
        # Not a message of ours at all.
        lambda t: make_dsn(failed=ANN, original_message_id="<someone-else@client.example>"),
        # Only delayed, not failed for good.
        lambda t: make_dsn(
            failed=ANN,
            original_message_id=ticket_message_id(t.pk, "abc"),
            action="delayed",
            status="4.4.1",
        ),
        # An address this ticket's email never went to.
        lambda t: make_dsn(
            failed="victim@client.example", original_message_id=ticket_message_id(t.pk, "abc")
        ),
    ],
    ids=["forged-signature", "not-ours", "delayed", "other-address"],
)
def test_reports_that_prove_nothing_suppress_nothing(ticket, dsn):
    message = receive(dsn(ticket))
    assert message.outcome == InboundMessage.Outcome.IGNORED
    assert not SuppressedAddress.objects.exists()


def test_the_admin_shows_bouncing_addresses_and_lifts_them(client, ticket):
    receive(make_dsn(failed=ANN, original_message_id=ticket_message_id(ticket.pk, "abc")))
    root = factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)
    url = reverse("admin:notifications_suppressedaddress_changelist")
    page = client.get(url)
    assert page.status_code == 200
    assert ANN.encode() in page.content
    row = SuppressedAddress.objects.get()
    client.post(url, {"action": "send_again", "_selected_action": [row.pk]})
    assert not SuppressedAddress.objects.exists()


def test_auto_answers_are_capped_per_service_per_hour(support_service, settings):
    """However many strangers write (a flood of forged senders), a service sends at most
    INBOUND_AUTO_ANSWERS_PER_HOUR auto-answers an hour; the rest are stored, unanswered."""
    settings.INBOUND_AUTO_ANSWERS_PER_HOUR = 3
    messages = [receive(make_mail(sender=f"stranger{n}@spam.example")) for n in range(5)]
    answers = Notification.objects.filter(key__startswith="inbound:auto-answer:")
    assert answers.count() == 3
    assert all(m.outcome == InboundMessage.Outcome.IGNORED for m in messages)
    assert "INBOUND_AUTO_ANSWERS_PER_HOUR" in messages[-1].reason
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        receive(make_mail(sender="later@prospect.example"))
    assert answers.count() == 4
