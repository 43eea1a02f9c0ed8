"""Reads of the api app: token lookup, a user's tokens, and the rows a resource lists."""

import hmac

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.roles import staff_tier_level
from sla.models import Priority, Service
from sla.selectors import customer_services, limit_to_staff_services
from tickets.models import Attachment, Message
from tickets.selectors import (
    ticket_get_for_customer,
    ticket_public_messages,
    tickets_for_staff,
    tickets_worked_by,
)

from .models import ApiToken
from .services import split_token, token_digest


def token_for_raw(raw):
    """The token whose value is ``raw`` (with its user), or None. Looked up by the public
    prefix, then compared in constant time against the stored SHA-256."""
    prefix = split_token(raw)
    if prefix is None:
        return None
    token = _one(ApiToken.objects.select_related("user").filter(prefix=prefix))
    if token is None or not hmac.compare_digest(token.digest, token_digest(raw)):
        return None
    return token


def _one(rows):
    """The first row of a lookup by a unique key, or None, without an ORDER BY: ``first()``
    orders by the model's ordering, and compiling that over a ticket's ~100 joined columns
    cost more CPU than the rest of the query (profiled at 1,000,000 tickets)."""
    return next(iter(rows.order_by()[:1]), None)


def tokens_of_user(*, user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


# --- tickets: the portal's and the admin's scopes, nothing of our own -------------------------


def ticket_for_user(*, user, ticket_id, change=False):
    """The ticket ``user`` may read through the API, or 404 — the portal's rule for customers
    (``ticket_get_for_customer``), the admin's for staff (``tickets_for_staff``; a ticket they
    worked stays readable, not changeable: ``tickets_worked_by``). ``ticket.api_may_change``
    tells whether staff may change it; with ``change``, a read-only one is refused (403)."""
    if staff_tier_level(user) is None:
        ticket = ticket_get_for_customer(user=user, ticket_id=ticket_id)
        ticket.api_may_change = True
        return ticket
    try:
        ticket_id = int(ticket_id)
    except (TypeError, ValueError):
        raise Http404("No such ticket.") from None
    related = ("service", "priority", "customer", "assignee")
    ticket = _one(tickets_for_staff(user=user).select_related(*related).filter(pk=ticket_id))
    if ticket is not None:
        ticket.api_may_change = True
        return ticket
    ticket = _one(tickets_worked_by(user=user).select_related(*related).filter(pk=ticket_id))
    if ticket is None:
        raise Http404("No such ticket.")
    if change:
        raise PermissionDenied("This ticket moved past your tier: you may read it, not change it.")
    ticket.api_may_change = False
    return ticket


def ticket_messages_for_user(*, user, ticket):
    """The conversation: public messages for a customer (``ticket_public_messages``); every
    message, internal notes included, for staff (as the admin's ticket page shows them)."""
    if staff_tier_level(user) is None:
        return ticket_public_messages(ticket=ticket)
    return (
        Message.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
    )


def ticket_attachments_for_user(*, user, ticket):
    """Files of the ticket the user may download (``attachment_get_for_user``'s rule: a
    customer never sees a file of an internal note)."""
    attachments = Attachment.objects.filter(ticket=ticket)
    if staff_tier_level(user) is None:
        attachments = attachments.exclude(message__internal=True)
    return attachments


def services_for_user(*, user):
    """The services a user may read: a customer's own (``customer_services``), the ones a
    staff member works (``limit_to_staff_services``)."""
    if staff_tier_level(user) is None:
        ids = [service.pk for service in customer_services(user)]
        return Service.objects.filter(pk__in=ids)
    return limit_to_staff_services(Service.objects.all(), user=user, field="pk")


def service_with_sla(*, user, slug):
    """One of the user's services with its SLA table (current priorities) and tiers, or 404."""
    service = services_for_user(user=user).filter(slug=slug).prefetch_related("tiers").first()
    if service is None:
        raise Http404("No such service.")
    service.current_priorities = list(
        Priority.objects.filter(service=service, retired_at__isnull=True)
        .select_related("calendar")
        .order_by("position", "id")
    )
    return service
