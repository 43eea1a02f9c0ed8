"""Small pieces of ticket markup shown on many rows, built without a template per row."""

from django import template
from django.utils.html import format_html

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


@register.simple_tag
def status_badge(ticket):
    """The ticket's status as a coloured badge: rendered per row of the lists, so kept cheap."""
    return format_html(
        '<span class="badge status-badge {}">{}</span>',
        STATUS_BADGE_CLASSES.get(ticket.status, "text-bg-secondary"),
        STATUS_LABELS.get(ticket.status, ticket.status),
    )
