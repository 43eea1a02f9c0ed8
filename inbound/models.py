"""Every email that reaches the portal, stored raw before anything is done with it."""

from django.db import models
from django.utils import timezone


class InboundMessage(models.Model):
    """One received email and what became of it.

    ``message_id`` is the exactly-once key: the message's Message-ID, or ``sha256:<hex>`` of the
    raw message when it has none (or one too long to keep). The row is committed first; acting
    on it happens in a second transaction that locks the row and acts only while it is pending.
    """

    class Via(models.TextChoices):
        IMAP = "imap", "IMAP"
        HTTP = "http", "HTTP (provider webhook)"
        PIPE = "pipe", "MTA pipe"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        TICKET_OPENED = "ticket_opened", "Ticket opened"
        REPLY_ADDED = "reply_added", "Reply added"
        IGNORED = "ignored", "Ignored"
        REFUSED = "refused", "Refused"

    message_id = models.CharField(max_length=255, unique=True)
    # The whole message as received; only its header block when it was over the size limit.
    raw = models.BinaryField()
    raw_complete = models.BooleanField(default=True)
    size = models.PositiveBigIntegerField()
    sender = models.CharField("from", max_length=320, blank=True)
    recipients = models.TextField("to", blank=True)
    subject = models.CharField(max_length=255, blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # While pending: when the sweep takes the row up (a minute after it arrived, later after a
    # failed attempt). Cleared once the row has an outcome.
    retry_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["retry_at", "id"],
                condition=models.Q(outcome="pending"),
                name="inbound_pending_retry",
            ),
            models.Index(fields=["-received_at", "-id"], name="inbound_received"),
        ]

    def __str__(self):
        return f"{self.sender or '(no sender)'}: {self.subject or '(no subject)'}"


class ImapMailbox(models.Model):
    """Where polling of one IMAP folder got to: the folder's UIDVALIDITY and the highest UID
    whose message is stored (and acted on, or pending for the sweep) and flagged ``\\Seen``.

    ``key`` names the folder without the password (``imaps://user@host:993/INBOX``). When the
    server reports another UIDVALIDITY its UIDs mean other messages: ``last_uid`` goes back to 0
    and the folder is read again, and the Message-ID key of ``InboundMessage`` keeps what was
    already acted on from acting twice.
    """

    key = models.CharField(max_length=255, unique=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return self.key


class AutoAnswer(models.Model):
    """One auto-answer recorded for the outbox: what the hourly cap per service address counts
    (``INBOUND_AUTO_ANSWERS_PER_HOUR``), on top of the outbox key's one per sender per day."""

    service = models.ForeignKey("sla.Service", on_delete=models.CASCADE, related_name="+")
    to = models.CharField(max_length=320)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["service", "created_at"], name="inbound_autoanswer_recent"),
        ]

    def __str__(self):
        return f"{self.to} ({self.created_at:%Y-%m-%d %H:%M})"
