"""Every email about a ticket threads in mail clients and brings replies back to the ticket."""

import pytest

from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tickets import services
from tickets.mail_thread import (
    reply_token,
    thread_root_id,
    ticket_pk_from_message_id,
    ticket_pk_from_reply_token,
)

pytestmark = pytest.mark.django_db


def _headers(key):
    return Notification.objects.get(key=key).headers


def test_ticket_emails_carry_message_id_thread_and_tokenised_reply_to(
    settings, customer, service, priority, tier1_staff
):
    """Confirmation, staff reply and resolution: a Message-ID of their own, In-Reply-To and
    References to the ticket's thread root, Reply-To support+<signed token>@<our domain>."""
    settings.DEFAULT_FROM_EMAIL = "ACME Support <support@acme.example>"
    ticket = services.ticket_create(
        customer=customer, service=service, priority=priority, subject="S", description="D"
    )
    message = services.ticket_reply(ticket=ticket, author=tier1_staff, body="On it.")
    services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)
    ticket.refresh_from_db()
    keys = [
        f"ticket:{ticket.pk}:received",
        f"message:{message.pk}:customer",
        f"ticket:{ticket.pk}:resolved:{ticket.resolved_at.isoformat()}",
    ]
    ids = set()
    for key in keys:
        headers = _headers(key)
        assert headers["In-Reply-To"] == headers["References"] == thread_root_id(ticket.pk)
        assert headers["Message-ID"].endswith("@acme.example>")
        assert ticket_pk_from_message_id(headers["Message-ID"]) == ticket.pk
        assert headers["Reply-To"] == (
            f"ACME Support <support+{reply_token(ticket.pk)}@acme.example>"
        )
        ids.add(headers["Message-ID"])
    assert len(ids) == len(keys)


def test_the_headers_reach_the_mail_server(mailoutbox, customer, service, priority):
    """The outbox sends what it recorded: the Message-ID is ours, not one made at sending."""
    ticket = services.ticket_create(
        customer=customer, service=service, priority=priority, subject="S", description="D"
    )
    notifications_send_due()
    sent = mailoutbox[0].message()
    assert sent["Message-ID"] == _headers(f"ticket:{ticket.pk}:received")["Message-ID"]
    assert sent["References"] == thread_root_id(ticket.pk)
    assert f"+{reply_token(ticket.pk)}@" in sent["Reply-To"]


def test_tokens_and_message_ids_are_signed():
    """A token or Message-ID naming a ticket is ours only with its signature: another ticket
    number under the same signature, or a made-up one, names no ticket."""
    token = reply_token(41)
    assert ticket_pk_from_reply_token(token) == 41
    assert ticket_pk_from_reply_token(token.upper()) == 41  # MTAs may change the case
    assert ticket_pk_from_reply_token("42" + token[2:]) is None
    assert ticket_pk_from_reply_token("41-" + "0" * 20) is None
    root = thread_root_id(41)
    assert ticket_pk_from_message_id(root) == 41
    assert ticket_pk_from_message_id(root.replace("ticket-41-", "ticket-42-")) is None
    assert ticket_pk_from_message_id("<ticket-41@localhost>") is None


def test_sla_emails_are_threaded_too(customer, service, priority, tier1_staff):
    """The escalation sweep's emails (built in bulk) carry the same threading headers."""
    from tickets.emails import sla_escalated

    ticket = factories.TicketFactory(customer=customer, service=service, priority=priority)
    emails = sla_escalated(
        ticket,
        key=f"ticket:{ticket.pk}:escalated:test",
        from_tier=1,
        reason="pickup lapsed",
        actor=None,
        escalated=True,
        recipients=["a@example.com", "b@example.com"],
    )
    assert {ticket_pk_from_message_id(e.headers["Message-ID"]) for e in emails} == {ticket.pk}
    assert len({e.headers["Message-ID"] for e in emails}) == 2
    assert all(e.headers["References"] == thread_root_id(ticket.pk) for e in emails)
