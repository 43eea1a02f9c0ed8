"""The emails a ticket's life causes, each recorded in the outbox under a unique key."""

import html as _html
import re
from types import SimpleNamespace

from django.urls import reverse
from django.utils.timesince import timeuntil

from notifications.rendering import absolute_url, render_email
from notifications.services import OutboxEmail, notification_create, notification_key
from sla.selectors import service_tier_members

from . import lookups
from .mail_thread import thread_headers
from .models import TicketCC
from .promise import customer_zone, ticket_promise


def _about(ticket, *, key, to, template, context, answers=""):
    """One outbox row about ``ticket``, with its threading headers (``mail_thread``);
    ``answers``: the Message-ID of the email this one answers (threaded under it too)."""
    headers = thread_headers(ticket.pk, key)
    if answers:
        headers["In-Reply-To"] = answers
        headers["References"] = f"{headers['References']} {answers}"
    notification_create(key=key, to=to, template=template, context=context, headers=headers)


def received_key(ticket):
    """The outbox key of a ticket's confirmation (inbound mail threads it under the email)."""
    return f"ticket:{ticket.pk}:received"


def ticket_received(ticket, *, answers=""):
    """The confirmation; ``answers``: the customer's email that opened the ticket (inbound
    mail), so their mail client shows the confirmation in that thread."""
    # The promise as it stands when the ticket is filed (its created_at: no clock read here).
    zone = customer_zone(ticket.customer, ticket.service)
    promise = ticket_promise(ticket, zone=zone, now=ticket.created_at)
    _about(
        ticket,
        key=received_key(ticket),
        to=ticket.customer.email,
        template="tickets/ticket_received",
        context={
            "ticket": ticket,
            "url": absolute_url(ticket.get_absolute_url()),
            "promise": promise,
            "support_url": absolute_url(reverse("support:service", args=[ticket.service.slug])),
        },
        answers=answers,
    )


def ticket_new_in_tier(ticket, escalation=None):
    """Tell the staff of the ticket's tier who work its service that it has landed there
    (opened or escalated)."""
    cause = f"escalated:{escalation.pk}" if escalation else "new"
    url = absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    members = lookups.once(
        ("tier_members", ticket.service_id, ticket.tier),
        lambda: list(service_tier_members(ticket.service_id, ticket.tier)),
    )
    for member in members:
        _about(
            ticket,
            key=f"ticket:{ticket.pk}:{cause}:staff:{member.pk}",
            to=member.email,
            template="tickets/staff_new_in_tier",
            context={"ticket": ticket, "url": url, "escalation": escalation, "recipient": member},
        )


def _cc_addresses(ticket):
    """The CCs of the ticket (colleagues the customer added): (user id, address) pairs. They
    hear of it as its customer does, each under their own key."""
    return [
        (user_id, email)
        for user_id, email in TicketCC.objects.filter(ticket=ticket, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email")
    ]


def staff_replied(message):
    ticket = message.ticket
    context = {
        "ticket": ticket,
        "message": message,
        "url": absolute_url(ticket.get_absolute_url()),
    }
    _about(
        ticket,
        key=f"message:{message.pk}:customer",
        to=ticket.customer.email,
        template="tickets/staff_replied",
        context=context,
    )
    for user_id, email in _cc_addresses(ticket):
        _about(
            ticket,
            key=f"message:{message.pk}:cc:{user_id}",
            to=email,
            template="tickets/staff_replied",
            context=context,
        )


def customer_replied(message):
    ticket = message.ticket
    if ticket.assignee is None or not ticket.assignee.email:
        return
    _about(
        ticket,
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
    key = f"ticket:{ticket.pk}:resolved:{ticket.resolved_at.isoformat()}"
    url = absolute_url(ticket.get_absolute_url())
    _about(
        ticket,
        key=key,
        to=ticket.customer.email,
        template="tickets/ticket_resolved",
        context={"ticket": ticket, "url": url, "rating_url": f"{url}#rate"},
    )
    for user_id, email in _cc_addresses(ticket):
        _about(
            ticket,
            key=f"{key}:cc:{user_id}",
            to=email,
            template="tickets/ticket_resolved",
            context={"ticket": ticket, "url": url, "rating_url": f"{url}#rate"},
        )


# --- SLA: rendered once per batch, filled in per ticket --------------------------------------
#
# A sweep may escalate thousands of tickets at once. Rendering three templates per ticket costs
# about a millisecond; instead each SLA template is rendered once per batch with placeholders
# for everything that differs between tickets, and the placeholders are filled in per ticket
# in one pass (HTML-escaped in the HTML part), so a value is never scanned for placeholders.
# The templates therefore use plain values (preformatted in Python), not filters over fields.

TIMER_LABELS = {"response": "first response", "resolution": "resolution", "pickup": "pickup"}
_PLACEHOLDER = re.compile(r"@@sla\.(\w+)@@")


def _ph(name):
    return f"@@sla.{name}@@"


_TICKET = SimpleNamespace(
    number=_ph("number"),
    subject=_ph("subject"),
    description=_ph("description"),
    tier=_ph("tier"),
    service=SimpleNamespace(name=_ph("service")),
    priority=SimpleNamespace(code=_ph("priority_code"), name=_ph("priority_name")),
    customer=SimpleNamespace(email=_ph("customer")),
)
_FIELDS = ("url", "from_tier", "to_tier", "reason", "actor", "timer_label", "due", "left", "role")


def admin_url(ticket):
    return absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk]))


_URL_PK = 987654321


def _admin_url(ticket, stamps):
    """``admin_url``, with the URL resolved once per batch (``reverse`` costs ~0.1 ms)."""
    parts = stamps.get("admin_url")
    if parts is None:
        parts = stamps["admin_url"] = admin_url(SimpleNamespace(pk=_URL_PK)).split(str(_URL_PK))
    if len(parts) != 2 or not isinstance(ticket.pk, int):
        return admin_url(ticket)
    return f"{parts[0]}{ticket.pk}{parts[1]}"


def sla_at_risk(ticket, *, key, timer, due_at, now, recipients, stamps=None):
    """The "at risk" notice of one timer, for the assignee or the tier."""
    values = {
        "timer_label": TIMER_LABELS[timer],
        "due": _when(due_at),
        "left": timeuntil(due_at, now),
    }
    return _outbox(key, "sla/at_risk", {}, ticket, values, recipients, stamps)


def sla_escalated(ticket, *, key, from_tier, reason, actor, escalated, recipients, stamps=None):
    """The ticket has reached a new tier (``escalated``) or breached at the top tier."""
    values = {
        "from_tier": from_tier,
        "to_tier": ticket.tier,
        "reason": reason,
        "actor": actor.get_username() if actor else "",
    }
    flags = {"escalated": escalated, "by_someone": actor is not None}
    return _outbox(key, "sla/escalated", flags, ticket, values, recipients, stamps)


def sla_management(ticket, *, key, role, due_at, recipients, stamps=None):
    """A management role hears of an unresolved ticket past its resolution deadline."""
    values = {"role": role, "due": _when(due_at)}
    return _outbox(key, "sla/management", {}, ticket, values, recipients, stamps)


def _when(moment):
    return f"{moment:%a %d %b %Y %H:%M} UTC"


def _outbox(key, template, flags, ticket, values, recipients, stamps):
    """One outbox row per recipient address (keys unique per recipient)."""
    addresses = sorted({address for address in recipients if address})
    if not addresses:
        return []
    stamps = {} if stamps is None else stamps
    stamp_key = (template, tuple(sorted(flags.items())))
    stamp = stamps.get(stamp_key)
    if stamp is None:
        context = {"ticket": _TICKET, **{name: _ph(name) for name in _FIELDS}, **flags}
        rendered = render_email(template, context)
        stamp = stamps[stamp_key] = tuple(
            _PLACEHOLDER.split(part) for part in (rendered.subject, rendered.text, rendered.html)
        )
    raw = {
        "number": ticket.number,
        "subject": ticket.subject,
        "description": ticket.description,
        "tier": ticket.tier,
        "service": ticket.service.name,
        "priority_code": ticket.priority.code,
        "priority_name": ticket.priority.name,
        "customer": ticket.customer.email,
        "url": _admin_url(ticket, stamps),
        **values,
    }
    raw = {name: str(value) for name, value in raw.items()}
    # What django.utils.html.escape returns, without its lazy-string wrapper (~25 µs a call).
    escaped = {name: _html.escape(value) for name, value in raw.items()}
    subject = " ".join(_fill(stamp[0], raw).split())[:255]
    text, html = _fill(stamp[1], raw), _fill(stamp[2], escaped)
    emails = []
    for address in addresses:
        row_key = notification_key(key, address)
        emails.append(
            OutboxEmail(
                key=row_key,
                to=address,
                subject=subject,
                body_text=text,
                body_html=html,
                headers=thread_headers(ticket.pk, row_key),
            )
        )
    return emails


def _fill(pieces, values):
    """``pieces`` alternate literal text and placeholder names (``re.split`` with a group)."""
    return "".join(piece if i % 2 == 0 else values.get(piece, "") for i, piece in enumerate(pieces))
