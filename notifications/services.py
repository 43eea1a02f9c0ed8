"""Record notifications in the outbox and deliver them, each exactly once.

A notification is written in the transaction of the event that causes it, so a rolled-back
event sends nothing. After commit a task delivers it; when the broker is down or a worker dies,
the beat sweep finds the row still pending and delivers it. Delivery locks the row, so two
workers never send the same row twice.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from .models import Notification
from .rendering import render_email

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


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


def notification_send(*, notification_id, now=None):
    """Deliver one pending notification. Returns True when this call sent it."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=Notification.Status.PENDING)
            .first()
        )
        if notification is None:
            return False
        return _deliver(notification, now=now or timezone.now(), connection=None)


def notifications_send_due(*, now=None, batch_size=200):
    """Deliver every pending notification whose attempt is due. Returns how many were sent.

    Each batch is locked with ``skip_locked``, so concurrent sweeps (and the per-notification
    task) share the work without sending a row twice.
    """
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at", "id")[:batch_size]
            )
            if not batch:
                return sent
            with get_connection() as connection:
                for notification in batch:
                    sent += _deliver(notification, now=now, connection=connection)
        if len(batch) < batch_size:
            return sent


@transaction.atomic
def notification_retry(*, notification):
    """Put a failed notification back in the queue (staff do this from admin)."""
    notification.status = Notification.Status.PENDING
    notification.next_attempt_at = timezone.now()
    notification.save(update_fields=["status", "next_attempt_at"])
    transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)


def _deliver(notification, *, now, connection):
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
    notification.attempts += 1
    try:
        message.send()
    except Exception as exc:
        notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            notification.status = Notification.Status.FAILED
            logger.error("Giving up on notification %s: %s", notification.pk, exc)
        else:
            notification.next_attempt_at = now + min(
                timedelta(minutes=2**notification.attempts), MAX_BACKOFF
            )
            logger.warning("Notification %s failed, will retry: %s", notification.pk, exc)
        notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        return False
    notification.status = Notification.Status.SENT
    notification.sent_at = now
    notification.last_error = ""
    notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    return True
