"""Every non-trivial read of tickets. Customer reads are scoped to the customer."""

from django.db.models import Exists, OuterRef, Prefetch, Q, prefetch_related_objects
from django.http import Http404

from accounts.roles import staff_tier_level
from sla.models import Priority
from sla.selectors import customer_services, limit_to_staff_services

from .models import Attachment, Message, Ticket, TicketEvent


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


def ticket_list_for_customer(*, user, status=None, service=None, query=None):
    tickets = (
        Ticket.objects.filter(customer=user)
        .select_related("service", "priority")
        .only(*LIST_ROW_FIELDS)
    )
    if status == "active":
        tickets = tickets.exclude(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    elif status:
        tickets = tickets.filter(status=status)
    if service:
        tickets = tickets.filter(service__slug=service)
    if query:
        tickets = tickets.filter(subject__icontains=query)
    return tickets.order_by("-updated_at", "-id")


def ticket_get_for_customer(*, user, ticket_id):
    """The customer's own ticket, or 404: another customer's ticket does not exist for them."""
    try:
        return Ticket.objects.select_related("service", "priority").get(
            pk=int(ticket_id), customer=user
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise Http404("No such ticket.") from None


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
    """What the home page shows a signed-in customer."""
    tickets = ticket_list_for_customer(user=user)
    return {
        "recent_tickets": list(tickets[:5]),
        "active_count": ticket_list_for_customer(user=user, status="active").count(),
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
