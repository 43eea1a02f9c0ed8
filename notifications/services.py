"""Record notifications in the outbox and deliver them, each once.

A notification is written in the transaction of the event that causes it, so a rolled-back
event sends nothing. After commit a task delivers it; when the broker is down or a worker dies,
the beat sweep finds the row still pending and delivers it.

Each row is delivered in its own short transaction that holds the row's lock (``FOR UPDATE SKIP
LOCKED``) while the mail server is talked to and commits the row as sent right after. So the
per-row task and any number of sweeps never send the same row twice, and a worker killed
half-way through a sweep leaves every row it has committed as sent, and every row it has not
reached as pending. The one unavoidable gap: a crash after the mail server accepted a message
and before its row commits leaves that single row pending, and it is sent again (at least once,
never silently dropped).
"""

import enum
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Notification
from .rendering import render_email

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)

Status = Notification.Status


class _Outcome(enum.Enum):
    SENT = "sent"
    FAILED = "failed"  # this message failed; the next one may well go through
    UNREACHABLE = "unreachable"  # no connection to the mail server: the rest would fail too
    SKIPPED = "skipped"  # sent already, not due, or being sent by someone else right now


@transaction.atomic
def notification_create(*, key, to, template, context, headers=None):
    """Record one email for ``to``; a second call with the same key changes nothing."""
    rendered = render_email(template, context)
    notification, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "to": to,
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "headers": headers or {},
        },
    )
    if created:
        transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)
    return notification


@dataclass(frozen=True)
class OutboxEmail:
    """An email already rendered (see ``rendering.render_email``), ready to be recorded."""

    key: str
    to: str
    subject: str
    body_text: str
    body_html: str = ""
    headers: dict = field(default_factory=dict)


@transaction.atomic
def notifications_create_many(*, emails, batch_size=1000):
    """Record many emails in a few INSERTs; a key already in the outbox is left as it is.

    For sweeps that notify thousands of people at once (escalations, maintenance notices): one
    ``INSERT … ON CONFLICT DO NOTHING`` per ``batch_size`` rows instead of a query pair per
    email, and one sweep task after commit instead of a task per email.
    """
    rows = [
        Notification(
            key=email.key,
            to=email.to,
            subject=" ".join(email.subject.split())[:255],
            body_text=email.body_text,
            body_html=email.body_html,
            headers=email.headers,
        )
        for email in emails
    ]
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    transaction.on_commit(_enqueue_sweep, robust=True)
    return len(rows)


def notification_send(*, notification_id, now=None):
    """Deliver one pending notification now, due or not. Returns True when this call sent it."""
    return _send_one(notification_id, due_by=None, now=now, connection=None) is _Outcome.SENT


def notifications_send_due(*, now=None, batch_size=200):
    """Deliver every pending notification whose attempt is due. Returns how many were sent.

    Reads the due rows through their partial index a batch of ids at a time, then delivers each
    under its own row lock: rows another worker holds are skipped, rows that someone else has
    sent in the meantime are found sent. One SMTP connection serves the whole sweep.
    """
    due_by = now or timezone.now()
    sent = 0
    after = None  # keyset cursor: rows skipped because another worker holds them stay pending
    connection = get_connection()
    try:
        while True:
            due = Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=due_by)
            if after is not None:
                due = due.filter(
                    Q(next_attempt_at__gt=after[0]) | Q(next_attempt_at=after[0], pk__gt=after[1])
                )
            batch = list(
                due.order_by("next_attempt_at", "pk").values_list("next_attempt_at", "pk")[
                    :batch_size
                ]
            )
            for _, pk in batch:
                outcome = _send_one(pk, due_by=due_by, now=now, connection=connection)
                if outcome is _Outcome.SENT:
                    sent += 1
                elif outcome is _Outcome.UNREACHABLE:
                    # Stop rather than wait out a connect timeout per row; the rows left are
                    # still pending, with their attempts untouched, for the next sweep.
                    logger.warning("Mail server unreachable; the next sweep will carry on")
                    return sent
            if len(batch) < batch_size:
                return sent
            after = batch[-1]
    finally:
        _close_quietly(connection)


@transaction.atomic
def notification_retry(*, notification):
    """Queue a failed (or waiting) notification for delivery now, with a fresh set of attempts.

    Staff do this from admin. A notification that has been sent is left alone, so retrying a
    selection never sends anything twice. Returns True when the notification was queued.
    """
    notification = (
        Notification.objects.select_for_update().filter(pk=notification.pk).order_by().first()
    )
    if notification is None or notification.status == Status.SENT:
        return False
    notification.status = Status.PENDING
    notification.attempts = 0
    notification.next_attempt_at = timezone.now()
    notification.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)
    return True


def _enqueue_delivery(notification_id):
    from .tasks import send_notification

    try:
        send_notification.delay(notification_id)
    except Exception:  # the broker is down; the row stays pending for the sweep
        logger.warning(
            "Could not enqueue notification %s; the outbox sweep will deliver it",
            notification_id,
            exc_info=True,
        )


def _enqueue_sweep():
    from .tasks import send_pending_notifications

    try:
        send_pending_notifications.delay()
    except Exception:  # the broker is down; beat runs the sweep within a minute anyway
        logger.warning("Could not enqueue the outbox sweep; beat will run it", exc_info=True)


def _send_one(pk, *, due_by, now, connection):
    """Lock one row, send it, and commit the outcome before the next row is touched."""
    with transaction.atomic():
        rows = Notification.objects.select_for_update(skip_locked=True).filter(
            pk=pk, status=Status.PENDING
        )
        if due_by is not None:
            rows = rows.filter(next_attempt_at__lte=due_by)
        notification = rows.order_by().first()
        if notification is None:
            return _Outcome.SKIPPED
        return _deliver(notification, now=now or timezone.now(), connection=connection)


def _deliver(notification, *, now, connection):
    notification.attempts += 1
    if connection is not None:
        try:
            connection.open()  # a no-op while the sweep's connection is open
        except Exception as exc:
            _record_failure(notification, exc, now=now)
            return _Outcome.UNREACHABLE
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to],
        headers=notification.headers or None,
        connection=connection,
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    try:
        if message.send() == 0:
            # A backend reports 0 when it dropped the message (no usable recipient).
            raise ValueError(f"the mail backend sent nothing to {notification.to!r}")
    except Exception as exc:
        _record_failure(notification, exc, now=now)
        if connection is not None:
            # The session may be broken (disconnect, protocol error); the next row reconnects.
            _close_quietly(connection)
        return _Outcome.FAILED
    notification.status = Status.SENT
    notification.sent_at = now
    notification.last_error = ""
    notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    return _Outcome.SENT


def _record_failure(notification, exc, *, now):
    notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.status = Status.FAILED
        logger.error(
            "Giving up on notification %s (%s) after %s attempts: %s",
            notification.pk,
            notification.key,
            notification.attempts,
            notification.last_error,
        )
    else:
        notification.next_attempt_at = now + _backoff(notification.attempts)
        logger.warning(
            "Notification %s (%s) failed, retrying at %s: %s",
            notification.pk,
            notification.key,
            notification.next_attempt_at.isoformat(),
            notification.last_error,
        )
    notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


def _backoff(attempts):
    """2, 4, 8 … minutes after the failed attempt, at most an hour."""
    # The exponent is capped so a large NOTIFICATION_MAX_ATTEMPTS cannot overflow timedelta.
    return min(timedelta(minutes=2 ** min(attempts, 16)), MAX_BACKOFF)


def _close_quietly(connection):
    # Closing runs after rows are committed as sent; a failed QUIT must not undo anything.
    try:
        connection.close()
    except Exception:
        logger.warning("Could not close the mail connection cleanly", exc_info=True)
