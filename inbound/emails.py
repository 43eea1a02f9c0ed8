"""The one email inbound mail causes by itself: the polite answer to an unknown sender."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.rendering import absolute_url
from notifications.services import notification_create, notification_key
from sla.models import Service

from .models import AutoAnswer

# RFC 3834: an automatic answer says so, and asks Exchange not to answer it automatically.
AUTO_ANSWER_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


SENT, ANSWERED_TODAY, HOURLY_CAP = "sent", "answered today", "hourly cap"


def unknown_sender_answer(
    *, to, service, subject, message_id, today, ticket=None, closed=False, now=None
):
    """The polite answer to mail that starts nothing: from an unknown sender, or (``closed``)
    a CC's or colleague's reply to a closed ticket, which only its customer may continue.

    At most one answer per sender per (UTC) day, whatever they send: the outbox key holds the
    date; and at most ``INBOUND_AUTO_ANSWERS_PER_HOUR`` per service in the last hour, however
    many senders (forged ones, in a flood) write. Runs in the caller's transaction, which holds
    the service's row lock while it counts. Returns ``SENT``, ``ANSWERED_TODAY`` or
    ``HOURLY_CAP``."""
    key = notification_key(f"inbound:auto-answer:{today.isoformat()}", to)
    if Notification.objects.filter(key=key).exists():
        return ANSWERED_TODAY
    now = now or timezone.now()
    # Serialises the auto-answers of one service, so two workers cannot both count one short.
    Service.objects.select_for_update().filter(pk=service.pk).values_list("pk").first()
    recent = AutoAnswer.objects.filter(service=service, created_at__gt=now - timedelta(hours=1))
    if recent.count() >= settings.INBOUND_AUTO_ANSWERS_PER_HOUR:
        return HOURLY_CAP
    headers = dict(AUTO_ANSWER_HEADERS)
    if message_id:
        headers["In-Reply-To"] = headers["References"] = message_id
    notification_create(
        key=key,
        to=to,
        template="inbound/unknown_sender",
        context={
            "service": service,
            "sender": to,
            "subject": subject,
            "ticket_number": ticket.number if ticket is not None else "",
            "closed": closed,
            "signup_url": absolute_url(reverse("signup")),
        },
        headers=headers,
    )
    AutoAnswer.objects.create(service=service, to=to[:320], created_at=now)
    # Only the last hour is ever counted: older rows of the service go as new ones come.
    AutoAnswer.objects.filter(service=service, created_at__lt=now - timedelta(days=1)).delete()
    return SENT
