"""Delivery status notifications (RFC 3464): which of our recipients bounced, for good.

A DSN is ``multipart/report; report-type=delivery-status`` with a ``message/delivery-status``
part (one block of fields per recipient: ``Final-Recipient``, ``Action``, ``Status``,
``Diagnostic-Code``) and the returned message or its headers. Only a permanent failure
(``Action: failed``, ``Status: 5.x.x``) of an email we can prove is ours (the returned
Message-ID is one of our signed ticket Message-IDs) counts: anyone can send a report, and a
forged one must not stop our mail to a customer.
"""

import itertools
from dataclasses import dataclass
from email import message_from_string
from email.parser import BytesParser
from email.policy import compat32

from tickets.mail_thread import ticket_pk_from_message_id

from .parsing import MAX_PARTS

_MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class Bounce:
    ticket_pk: int  # the ticket of the email that bounced
    recipients: list  # (lowercase address, "5.1.1 diagnostic") of each permanent failure


def permanent_failures(raw):
    """A ``Bounce`` when ``raw`` is a DSN reporting permanent failures of one of our ticket
    emails; None for anything else (another report, a delay, a message not ours)."""
    # compat32: message/delivery-status bodies come back as lists of header blocks.
    message = BytesParser(policy=compat32).parsebytes(raw)
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    status_blocks, original = None, None
    for part in itertools.islice(message.walk(), MAX_PARTS):
        kind = part.get_content_type()
        if kind == "message/delivery-status" and status_blocks is None:
            status_blocks = part.get_payload()
        elif kind == "message/rfc822" and original is None:
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) and payload else None
        elif kind == "text/rfc822-headers" and original is None:
            text = part.get_payload(decode=True) or b""
            original = message_from_string(text.decode("utf-8", "replace"))
    if not isinstance(status_blocks, list) or original is None:
        return None
    ticket_pk = ticket_pk_from_message_id(str(original.get("Message-ID", "")))
    if ticket_pk is None:
        return None
    failures = []
    for block in status_blocks[1 : 1 + _MAX_RECIPIENTS]:  # the first block is per message
        action = str(block.get("Action", "")).strip().lower()
        status = str(block.get("Status", "")).strip()
        recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        if action != "failed" or not status.startswith("5") or "@" not in address:
            continue
        diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
        failures.append((address, f"{status} {diagnostic}".strip()[:500]))
    if not failures:
        return None
    return Bounce(ticket_pk=ticket_pk, recipients=failures)
