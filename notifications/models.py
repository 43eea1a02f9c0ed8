"""The email outbox: every notification is a row written with the event that caused it."""

from django.db import models
from django.utils import timezone


class NotificationBody(models.Model):
    """Content rendered once and shared by many outbox rows (a notice to 100,000 people).

    Each row keeps its own recipient, headers and ``substitutions`` (placeholder → text, e.g.
    its unsubscribe link), applied to this content when the row is delivered.
    """

    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.subject


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Not sent: the address bounced (``SuppressedAddress``); the reason is in last_error.
        SUPPRESSED = "suppressed", "Suppressed (address bouncing)"

    # Names the event and recipient ("ticket:12:received:customer"): the same event never
    # makes a second row, however often the code that records it runs.
    key = models.CharField(max_length=255, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Bulk rows: the shared content and this recipient's placeholders (body_text stays empty).
    body = models.ForeignKey(
        NotificationBody, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    substitutions = models.JSONField(default=dict, blank=True)
    # Files sent with it: [[filename, content type, text], ...] (a period report's CSV). Null,
    # not [], so the bulk inserts that do not name the column leave it empty.
    attachments = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep reads only pending rows that are due, oldest first.
            # (next_attempt_at, id): the sweep's ORDER BY … LIMIT reads the index in order; on
            # next_attempt_at alone, 100,000 rows due at the same moment were sorted per group.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="notification_pending_due_id",
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {self.to}"

    def content(self):
        """(subject, text, html, headers) as this recipient gets them."""
        if self.body_id is None:
            return self.subject, self.body_text, self.body_html, self.headers or {}
        return (
            self.body.subject,
            _substitute(self.body.body_text, self.substitutions),
            _substitute(self.body.body_html, self.substitutions),
            {
                name: _substitute(value, self.substitutions)
                for name, value in (self.headers or {}).items()
            },
        )


class SuppressedAddress(models.Model):
    """An address the outbox no longer sends to: a delivery report said it bounces.

    Recorded by inbound mail (a DSN for one of our ticket emails, ``docs/email.md``); deleting
    the row (admin: "send to it again") lifts it. ``address`` is kept lowercase.
    """

    address = models.CharField(max_length=320, unique=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "suppressed addresses"

    def __str__(self):
        return self.address


def _substitute(text, substitutions):
    for placeholder, value in (substitutions or {}).items():
        text = text.replace(placeholder, value)
    return text
