"""The emails a ticket's life causes, each recorded in the outbox under a unique key."""

import hashlib

from django.urls import reverse

from accounts.roles import tier_members
from notifications.rendering import absolute_url, render_email
from notifications.services import OutboxEmail, notification_create


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


# --- SLA: rendered once per ticket and step, recorded in bulk by the caller -------------------

TIMER_LABELS = {"response": "First response", "resolution": "Resolution", "pickup": "Pickup"}


def admin_url(ticket):
    return absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk]))


def sla_at_risk(ticket, *, key, timer, due_at, now, recipients):
    """The "at risk" notice of one timer, for the assignee or the tier."""
    context = {
        "ticket": ticket,
        "timer_label": TIMER_LABELS[timer],
        "due_at": due_at,
        "now": now,
        "url": admin_url(ticket),
    }
    return _outbox(key, "sla/at_risk", context, recipients)


def sla_escalated(ticket, *, key, from_tier, reason, actor, escalated, recipients):
    """The ticket has reached a new tier (``escalated``) or breached at the top tier."""
    context = {
        "ticket": ticket,
        "from_tier": from_tier,
        "to_tier": ticket.tier,
        "reason": reason,
        "actor": actor.get_username() if actor else "",
        "escalated": escalated,
        "url": admin_url(ticket),
    }
    return _outbox(key, "sla/escalated", context, recipients)


def sla_management(ticket, *, key, role, due_at, recipients):
    """A management role hears of an unresolved ticket past its resolution deadline."""
    context = {"ticket": ticket, "role": role, "due_at": due_at, "url": admin_url(ticket)}
    return _outbox(key, "sla/management", context, recipients)


def _outbox(key, template, context, recipients):
    """One rendering, one outbox row per recipient address (keys unique per recipient)."""
    addresses = sorted({address for address in recipients if address})
    if not addresses:
        return []
    rendered = render_email(template, context)
    return [
        OutboxEmail(
            key=_key(key, address),
            to=address,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
        )
        for address in addresses
    ]


def _key(prefix, address):
    key = f"{prefix}:{address}"
    if len(key) <= 255:
        return key
    return f"{prefix}:{hashlib.sha256(address.encode()).hexdigest()}"
