"""Ticket markup repeated on every row of a list, built in Python.

Through the template engine, the 25 rows of "my tickets" were half the page's CPU: a dozen
variable lookups, an include and a URL per row. Here a row is one f-string, and everything in
it is escaped the same way a template would (``html.escape``, what Django's ``escape`` calls).
"""

import html

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from tickets.models import Ticket

register = template.Library()

STATUS_BADGE_CLASSES = {
    Ticket.Status.NEW: "text-bg-primary",
    Ticket.Status.OPEN: "text-bg-info",
    Ticket.Status.WAITING_ON_CUSTOMER: "text-bg-warning",
    Ticket.Status.RESOLVED: "text-bg-success",
    Ticket.Status.CLOSED: "text-bg-secondary",
}
STATUS_LABELS = dict(Ticket.Status.choices)


def _escape(value):
    """``django.utils.html.escape`` without its lazy-string wrapper (``keep_lazy``), which
    cost more than the escaping on the ~10 values of each of the list's 25 rows: the same
    ``html.escape(str(value))``."""
    return html.escape(str(value))


@register.simple_tag
def status_badge(ticket):
    """The ticket's status as a coloured badge: rendered per row of the lists, so kept cheap."""
    return mark_safe(_BADGES.get(ticket.status) or _badge(ticket.status))  # noqa: S308


def _badge(status):
    return (
        f'<span class="badge status-badge {STATUS_BADGE_CLASSES.get(status, "text-bg-secondary")}">'
        f"{_escape(STATUS_LABELS.get(status, status))}</span>"
    )


# Every status's badge, escaped once; an unknown status (none is stored) is built per call.
_BADGES = {status: _badge(status) for status in Ticket.Status}


# Stands for a ticket's id in a URL reversed once per page; reversing for every row cost more
# than the rest of the row.
_ID = 987654321


@register.simple_tag(takes_context=True)
def ticket_row(context, ticket):
    """One row of "my tickets" (``ticket.updated_iso`` and ``updated_display`` set by the view).

    Built as one f-string of escaped values (what ``format_html`` does, without its per-value
    ``conditional_escape`` calls through the lazy-string wrapper).
    """
    pattern = context.render_context.get("ticket_detail_url")
    if pattern is None:
        pattern = context.render_context["ticket_detail_url"] = reverse(
            "tickets:detail", args=[_ID]
        )
    url = _escape(pattern.replace(str(_ID), str(ticket.pk)))
    priority = ticket.priority
    return mark_safe(  # noqa: S308 -- every value below is escaped
        f'<tr><td class="text-nowrap"><a href="{url}">{_escape(ticket.number)}</a></td>'
        f'<td class="user-text"><a href="{url}">{_escape(ticket.subject)}</a></td>'
        f"<td>{_escape(ticket.service.name)}</td>"
        f'<td title="{_escape(priority.label)}">{_escape(priority.code)} — '
        f"{_escape(priority.name)}</td>"
        f"<td>{status_badge(ticket)}</td>"
        f'<td class="text-nowrap"><time datetime="{_escape(ticket.updated_iso)}">'
        f"{_escape(ticket.updated_display)}</time></td></tr>"
    )
