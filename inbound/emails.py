"""The one email inbound mail causes by itself: the polite answer to an unknown sender."""

from django.urls import reverse

from notifications.models import Notification
from notifications.rendering import absolute_url
from notifications.services import notification_create, notification_key

# RFC 3834: an automatic answer says so, and asks Exchange not to answer it automatically.
AUTO_ANSWER_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


def unknown_sender_answer(*, to, service, subject, message_id, today, ticket=None):
    """At most one answer per sender per (UTC) day, whatever they send: the outbox key holds the
    date. Returns True when this call recorded it."""
    key = notification_key(f"inbound:auto-answer:{today.isoformat()}", to)
    if Notification.objects.filter(key=key).exists():
        return False
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
            "signup_url": absolute_url(reverse("signup")),
        },
        headers=headers,
    )
    return True
