"""Every non-trivial read of tickets. Customer reads are scoped to the customer."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Window,
    prefetch_related_objects,
)
from django.http import Http404

from accounts.roles import staff_tier_level
from sla.models import Priority
from sla.selectors import customer_services, limit_to_staff_services

from .models import Attachment, Message, Ticket, TicketCC, TicketEvent


def customer_services_with_priorities(*, user):
    """The services a customer may file tickets for, by name, with their current priorities."""
    services = customer_services(user)
    prefetch_related_objects(
        services,
        Prefetch(
            "priorities",
            queryset=Priority.objects.filter(retired_at__isnull=True).order_by("position"),
        ),
    )
    return services


# What a row of "my tickets" shows. Reading only these columns matters: a ticket row also holds
# a dozen SLA timestamps, and decoding them for every row cost more than rendering the page.
LIST_ROW_FIELDS = (
    "subject",
    "status",
    "updated_at",
    "service__name",
    "service__timezone",
    "priority__code",
    "priority__name",
    "priority__description",
)


def ticket_list_for_customer(*, user, status=None, service=None, query=None, include_shared=False):
    """The customer's tickets; with ``include_shared``, also those they may read as a colleague
    (``ticket_customer_access``): CC'd, or of their organisation when it lets colleagues see
    each other's tickets."""
    mine = ticket_customer_access(user=user) if include_shared else Q(customer=user)
    tickets = (
        Ticket.objects.filter(mine)
        .select_related("service", "priority", "customer")
        .only(*LIST_ROW_FIELDS, "customer__email", "customer_id")
    )
    return tickets_narrowed(tickets, status=status, service=service, query=query).order_by(
        "-updated_at", "-id"
    )


def tickets_narrowed(tickets, *, status=None, service=None, query=None):
    """A ticket list's filters, the same wherever a list is offered (portal, API): ``status``
    is a status or "active" (neither resolved nor closed), ``service`` a slug, ``query`` words
    of the subject."""
    if status == "active":
        tickets = tickets.exclude(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    elif status:
        tickets = tickets.filter(status=status)
    if service:
        tickets = tickets.filter(service__slug=service)
    if query:
        tickets = tickets.filter(subject__icontains=query)
    return tickets


def ticket_get_for_customer(*, user, ticket_id):
    """A ticket the customer may read and reply to, or 404: their own, one they are CC'd on,
    or a colleague's when their organisation allows it (``ticket_customer_access``). Anyone
    else's ticket does not exist for them. ``ticket.viewer_is_owner`` tells the page whether
    the owner's actions (close, reopen, rate, CCs) are theirs."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such ticket.")
    try:
        ticket = Ticket.objects.select_related("service", "priority", "customer").get(
            pk=int(ticket_id)
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise Http404("No such ticket.") from None
    # Most visits are the owner's: one query by primary key answers them. Anyone else's
    # access is checked by the full rule (their organisation, then the union of ids).
    ticket.viewer_is_owner = ticket.customer_id == user.pk
    if not ticket.viewer_is_owner and not ticket_customer_can_access(user=user, ticket=ticket):
        raise Http404("No such ticket.")
    return ticket


def ticket_public_messages(*, ticket):
    """The conversation a customer sees: public messages only, with their attachments."""
    return (
        Message.objects.filter(ticket=ticket, internal=False)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def ticket_opening_attachments(*, ticket):
    """Files attached to the ticket itself rather than to a reply."""
    return Attachment.objects.filter(ticket=ticket, message__isnull=True)


def ticket_conversation_for_customer(*, ticket):
    """``(messages, opening_attachments)`` of the customer's ticket page in two queries: the
    public messages (``ticket_public_messages``), each with its files as ``message.files``, and
    the files attached to the ticket itself. The files are read in one query for the whole
    ticket; those of internal notes are dropped here, never handed to the page."""
    messages = list(ticket_public_messages(ticket=ticket).prefetch_related(None))
    by_message = {message.pk: [] for message in messages}
    opening = []
    for attachment in Attachment.objects.filter(ticket=ticket):
        if attachment.message_id is None:
            opening.append(attachment)
        elif attachment.message_id in by_message:  # not an internal note's file
            by_message[attachment.message_id].append(attachment)
    for message in messages:
        message.files = by_message[message.pk]
    return messages, opening


def tickets_for_staff(*, user):
    """Tickets a staff member may work: those whose current tier is at most their own, of the
    services they work (all, unless limited)."""
    level = staff_tier_level(user)
    if level is None:
        return Ticket.objects.none()
    tickets = Ticket.objects.all()
    if not user.is_superuser:
        tickets = limit_to_staff_services(tickets.filter(tier__lte=level), user=user)
    return tickets


def tickets_worked_by(*, user):
    """Tickets a staff member worked: assigned to them, or with a message (reply or internal
    note) or an event (assigned, escalated, status …) of theirs, in the services they work.

    Read access only: a ticket escalated past their tier stays readable to those who worked it,
    while changing it stays with ``tickets_for_staff``.
    """
    if staff_tier_level(user) is None:
        return Ticket.objects.none()
    wrote = Message.objects.filter(ticket=OuterRef("pk"), author=user)
    acted = TicketEvent.objects.filter(ticket=OuterRef("pk"), actor=user)
    tickets = Ticket.objects.filter(Q(assignee=user) | Exists(wrote) | Exists(acted))
    return limit_to_staff_services(tickets, user=user)


def tickets_readable_by_staff(*, user):
    """What a staff member may open: the tickets they may work, and those they worked."""
    if user.is_superuser:
        return tickets_for_staff(user=user)
    return tickets_for_staff(user=user) | tickets_worked_by(user=user)


def attachment_get_for_user(*, user, ticket_id, attachment_id):
    """An attachment its customer or entitled staff may download; 404 for anyone else.

    A customer never gets a file of an internal note.
    """
    try:
        attachments = Attachment.objects.select_related("ticket", "message").filter(
            pk=int(attachment_id), ticket_id=int(ticket_id)
        )
    except (ValueError, TypeError):
        raise Http404("No such file.") from None
    if staff_tier_level(user) is not None:
        attachment = attachments.filter(
            ticket__in=tickets_readable_by_staff(user=user).values("pk")
        ).first()
    else:
        attachment = (
            attachments.filter(ticket__customer=user).exclude(message__internal=True).first()
        )
    if attachment is None:
        raise Http404("No such file.")
    return attachment


def customer_dashboard(*, user):
    """What the home page shows a signed-in customer: the five latest tickets of their list
    and how many of them are active, in one query (each row carries the count of active
    tickets, ``COUNT(*) FILTER (…) OVER ()``, counted before the ``LIMIT``; no ticket, no row:
    0). The same tickets as "My tickets" lists (their own, those they are CC'd on, and their
    colleagues' when the organisation shares them), so the count matches the list it links
    to."""
    active = ~Q(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    recent = list(
        ticket_list_for_customer(user=user, include_shared=True).annotate(
            active_total=Window(Count("pk", filter=active))
        )[:5]
    )
    return {
        "recent_tickets": recent,
        "active_count": recent[0].active_total if recent else 0,
        "services": customer_services(user),
    }


def ticket_count_created_since(*, user, since):
    """How many tickets the customer opened since ``since`` (the submission throttle's count).

    Served by the (customer, created_at) index, whatever the customer's history.
    """
    return Ticket.objects.filter(customer=user, created_at__gte=since).count()


def customer_reply_count_since(*, user, since):
    """How many replies the user wrote since ``since`` (the reply throttle's count)."""
    return Message.objects.filter(author=user, created_at__gte=since).count()


# --- colleagues, CCs, reopening and rating windows (customer side) ---------------------------


def customer_colleague_organization(*, user):
    """The user's organisation when it lets colleagues see each other's tickets, else None.

    Read through the user's membership by relation name: tickets sits below contracts, which
    holds organisations (no import upwards)."""
    cached = getattr(user, "_colleague_organization", False)
    if cached is not False:
        return cached
    organization = None
    try:
        membership = user.organization_membership
    except (AttributeError, ObjectDoesNotExist):  # anonymous, or in no organisation
        membership = None
    if membership is not None and membership.organization.colleagues_see_tickets:
        organization = membership.organization
    user._colleague_organization = organization
    return organization


def ticket_customer_access(*, user):
    """``Q`` of the tickets a customer may read and reply to: their own; those they are CC'd
    on; and, when their organisation allows it, those its members filed for its service.

    Written as ``pk IN (own UNION CC'd UNION colleagues')`` rather than an OR of the three:
    PostgreSQL cannot estimate an OR with a subquery (it guesses half the table), and at a
    million tickets read "my tickets" by a scan of the whole table (~0.6 s); each part of the
    union is an index read of the customer's own rows.
    """
    ids = (
        Ticket.objects.filter(customer=user)
        .order_by()
        .values("pk")
        .union(TicketCC.objects.filter(user=user).order_by().values("ticket_id"))
    )
    organization = customer_colleague_organization(user=user)
    if organization is not None:
        ids = ids.union(
            Ticket.objects.filter(
                customer__organization_membership__organization_id=organization.pk,
                service_id=organization.service_id,
            )
            .order_by()
            .values("pk")
        )
    return Q(pk__in=ids)


def ticket_customer_can_access(*, user, ticket):
    """Whether ``user`` (a customer) may read and reply to ``ticket``."""
    if ticket.customer_id == user.pk:
        return True
    return Ticket.objects.filter(ticket_customer_access(user=user), pk=ticket.pk).exists()


def ticket_cc_list(*, ticket):
    return list(TicketCC.objects.filter(ticket=ticket).select_related("user"))


def ticket_cc_candidates(*, ticket):
    """Colleagues the ticket's customer may add as CCs: the other active customers of their
    organisation who are not CC'd yet. One query, the organisation joined through the
    customer's membership (none: no colleagues)."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            organization_membership__organization__memberships__user_id=ticket.customer_id,
            is_active=True,
            is_staff=False,
        )
        .exclude(pk=ticket.customer_id)
        .exclude(ticket_ccs__ticket=ticket)
        .order_by("email")
    )


def ticket_reopen_deadline(ticket):
    """Until when the customer may reopen the closed ticket (then: a follow-up), or None."""
    if ticket.status != Ticket.Status.CLOSED or ticket.closed_at is None:
        return None
    return ticket.closed_at + timedelta(days=settings.TICKET_REOPEN_DAYS)


# A rating may be changed for this long after the ticket's resolution.
RATING_CHANGE_DAYS = 7


def ticket_rating_deadline(ticket):
    """Until when the ticket may be rated (or its rating changed), or None when it cannot be."""
    if ticket.resolved_at is None or ticket.status not in (
        Ticket.Status.RESOLVED,
        Ticket.Status.CLOSED,
    ):
        return None
    return ticket.resolved_at + timedelta(days=RATING_CHANGE_DAYS)
