"""The emails a ticket's life causes, each recorded in the outbox under a unique key."""

from django.urls import reverse

from accounts.roles import tier_members
from notifications.rendering import absolute_url
from notifications.services import notification_create


def ticket_received(ticket):
    notification_create(
        key=f"ticket:{ticket.pk}:received",
        to=ticket.customer.email,
        template="tickets/ticket_received",
        context={"ticket": ticket, "url": absolute_url(ticket.get_absolute_url())},
    )


def ticket_new_in_tier(ticket, escalation=None):
    """Tell the staff of the ticket's tier that it has landed there (opened or escalated)."""
    cause = f"escalated:{escalation.pk}" if escalation else "new"
    url = absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    for member in tier_members(ticket.tier):
        notification_create(
            key=f"ticket:{ticket.pk}:{cause}:staff:{member.pk}",
            to=member.email,
            template="tickets/staff_new_in_tier",
            context={"ticket": ticket, "url": url, "escalation": escalation, "recipient": member},
        )


def staff_replied(message):
    ticket = message.ticket
    notification_create(
        key=f"message:{message.pk}:customer",
        to=ticket.customer.email,
        template="tickets/staff_replied",
        context={
            "ticket": ticket,
            "message": message,
            "url": absolute_url(ticket.get_absolute_url()),
        },
    )


def customer_replied(message):
    ticket = message.ticket
    if ticket.assignee is None or not ticket.assignee.email:
        return
    notification_create(
        key=f"message:{message.pk}:assignee:{ticket.assignee_id}",
        to=ticket.assignee.email,
        template="tickets/customer_replied",
        context={
            "ticket": ticket,
            "message": message,
            "url": absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk])),
        },
    )


def ticket_resolved(ticket):
    # Keyed on the resolution time: a ticket reopened and resolved again is news again.
    notification_create(
        key=f"ticket:{ticket.pk}:resolved:{ticket.resolved_at.isoformat()}",
        to=ticket.customer.email,
        template="tickets/ticket_resolved",
        context={
            "ticket": ticket,
            "url": absolute_url(ticket.get_absolute_url()),
            "rating_url": absolute_url(ticket.get_absolute_url() + "#rate"),
        },
    )
