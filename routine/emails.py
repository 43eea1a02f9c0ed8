"""Routine emails, rendered from ``templates/emails/routine/``."""

from notifications.rendering import absolute_url, render_email
from notifications.services import OutboxEmail


def overdue_key(item, member):
    """One overdue reminder per item and recipient, whatever runs twice or crashes."""
    return f"routine:{item.pk}:overdue:{member.pk}"


def overdue_emails(item, members):
    """The overdue reminder of ``item`` for each of ``members``: rendered once, keyed each."""
    rendered = render_email(
        "routine/overdue",
        {
            "item": item,
            "task": item.task,
            "service": item.service,
            # Dates, not instants: the period is a run of local days of the service's zone.
            "period_start": item.period_start,
            "period_end": item.period_end,
            "timezone": item.service.timezone,
            "url": absolute_url(item.get_absolute_url()),
        },
    )
    return [
        OutboxEmail(
            key=overdue_key(item, member),
            to=member.email,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
        )
        for member in members
    ]
