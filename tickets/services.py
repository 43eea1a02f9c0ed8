"""Every write to a ticket. Each is one transaction; emails are recorded in the outbox with it."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import emails as account_emails
from accounts.roles import staff_tier_level
from paging.models import OnCallPage
from paging.oncall import on_call_pages_close_for
from sla.models import Priority, Service, ServiceCustomer

from . import emails, timers
from .attachments import attachment_fields, validate_uploads
from .escalation import escalate_manually
from .limits import check_reply_limit, check_ticket_limit, hold_customer, validate_text_size
from .models import Attachment, Message, Ticket, TicketCC, TicketEvent
from .paging_events import ticket_created_page, ticket_resolved_page
from .selectors import (
    ticket_cc_candidates,
    ticket_customer_can_access,
    ticket_rating_deadline,
    ticket_reopen_deadline,
    tickets_for_staff,
)

Status = Ticket.Status

# What a customer may do to the status of their own ticket.
CUSTOMER_TRANSITIONS = {
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.NEW: {Status.CLOSED},
    Status.OPEN: {Status.CLOSED},
    Status.WAITING_ON_CUSTOMER: {Status.CLOSED},
    # Within TICKET_REOPEN_DAYS of closing (``ticket_reopen_deadline``); later, a follow-up.
    Status.CLOSED: {Status.OPEN},
}


@transaction.atomic
def customer_add_service(*, customer, service):
    """Let ``customer`` file tickets for ``service`` (and hear of its maintenance).

    A customer who had no service until now (a sign-up waiting for access) is emailed that
    they may file tickets.
    """
    from maintenance.subscriptions import subscription_ensure_for_customer

    service = _service(service)
    first = not ServiceCustomer.objects.filter(customer=customer).exists()
    membership, created = ServiceCustomer.objects.get_or_create(service=service, customer=customer)
    subscription_ensure_for_customer(service=service, customer=customer)
    if created and first and customer.is_active:
        account_emails.access_granted(customer, service)
    return membership


@transaction.atomic
def ticket_create(
    *,
    customer,
    service,
    priority,
    subject,
    description,
    attachments=(),
    follow_up_of=None,
    answers="",
):
    """Open a ticket. ``follow_up_of``: a closed ticket of the customer's that this one
    continues (linked, and named in the description's first line): one too old to reopen in
    the portal, or one answered by email. ``answers``: the Message-ID of the customer's email
    that opened it (inbound mail): the confirmation is threaded under it."""
    service = _service(service)
    priority = _priority(service, priority)
    if not ServiceCustomer.objects.filter(service=service, customer=customer).exists():
        raise ValidationError(
            {"service": ValidationError("You are not a customer of this service.", "no_access")}
        )
    subject, description = subject.strip(), description.strip()
    if not subject:
        raise ValidationError({"subject": "A subject is required."})
    if not description:
        raise ValidationError({"description": "Describe the problem."})
    if follow_up_of is not None:
        if follow_up_of.customer_id != customer.pk:
            raise ValidationError("Only the customer of a ticket may open its follow-up.")
        reference = follow_up_reference(follow_up_of)
        if not description.startswith(reference):
            description = f"{reference}\n\n{description}"
    _check_text_size(description, field="description")
    uploads = validate_uploads(attachments)
    # Counted and inserted under the customer's row lock: concurrent submissions cannot all
    # read the same count and all pass the limit.
    hold_customer(customer)
    now = timezone.now()
    check_ticket_limit(customer, now=now)
    ticket = Ticket(
        service=service,
        customer=customer,
        priority=priority,
        subject=subject[:200],
        description=description,
        tier=priority.start_tier,
        created_at=now,
        updated_at=now,
        follow_up_of=follow_up_of,
    )
    timers.start(ticket, now=now)
    ticket.save(force_insert=True)
    _store_attachments(ticket, uploads, uploaded_by=customer)
    _event(ticket, customer, TicketEvent.Kind.CREATED, f"Ticket opened as {priority.code}")
    emails.ticket_received(ticket, answers=answers)
    emails.ticket_new_in_tier(ticket)
    ticket_created_page(ticket)
    return ticket


def follow_up_reference(ticket):
    """The first line of a follow-up's description: which ticket it continues."""
    return f"Follow-up to {ticket.number} “{ticket.subject}”"


@transaction.atomic
def ticket_reply(*, ticket, author, body, internal=False, attachments=(), locked=False):
    """Add to the conversation. A staff member's first public reply is the first response.

    A customer's replies are limited per hour (``TICKET_REPLY_LIMIT_PER_HOUR``); staff's are not.
    ``locked``: the caller's transaction already holds the author's row lock (a customer's) and
    then the ticket's, ``ticket`` read under it with its service, priority and calendar (inbound
    mail reads both once while matching); neither is taken again.
    """
    is_staff = staff_tier_level(author) is not None
    if not locked:
        if not is_staff:
            # Before the ticket's lock, in ticket_create's order (customer row, then tickets).
            hold_customer(author)
        ticket = _locked(ticket)
    if not is_staff and not ticket_customer_can_access(user=author, ticket=ticket):
        raise PermissionDenied("Only the ticket's customer, their CCs or staff may reply.")
    if internal and not is_staff:
        raise PermissionDenied("Only staff may write internal notes.")
    if not body.strip():
        raise ValidationError({"body": "Write a message."})
    if not is_staff and ticket.status == Status.CLOSED:
        raise ValidationError("This ticket is closed; open a new ticket instead.")
    _check_text_size(body.strip(), field="body")
    uploads = validate_uploads(attachments)
    now = timezone.now()
    if not is_staff:
        check_reply_limit(author, now=now)
    message = Message.objects.create(
        ticket=ticket, author=author, body=body.strip(), internal=internal, created_at=now
    )
    _store_attachments(ticket, uploads, uploaded_by=author, message=message)
    changed = ["updated_at"]
    ticket.updated_at = now
    if internal:
        _event(ticket, author, TicketEvent.Kind.NOTE, "Internal note added")
    elif is_staff:
        ctx = timers.Context.load(ticket)
        if ticket.first_response_at is None:
            timers.first_response(ticket, now=now, ctx=ctx)
        else:
            timers.picked_up(ticket, ctx=ctx)
        changed += timers.FIELDS
        if ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            changed.append("status")
        _event(ticket, author, TicketEvent.Kind.REPLIED, "Staff replied")
        emails.staff_replied(message)
    else:
        if ticket.status in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
            # The customer answering (or coming back after a resolution) puts the ball with us.
            _event(
                ticket,
                author,
                TicketEvent.Kind.STATUS,
                f"Status {ticket.get_status_display()} → Open (customer replied)",
                {"from": ticket.status, "to": Status.OPEN},
            )
            _leave_status(ticket, changed, to=Status.OPEN)
            previous = ticket.status
            ticket.status = Status.OPEN
            changed.append("status")
            # Leaving a pause (or a resolution): the resolution timer resumes.
            timers.status_changed(ticket, previous, now=now)
            changed += timers.FIELDS
        _event(ticket, author, TicketEvent.Kind.REPLIED, "Customer replied")
        emails.customer_replied(message)
    ticket.save(update_fields=changed)
    return message


@transaction.atomic
def ticket_set_status(*, ticket, status, by):
    ticket = _locked(ticket)
    status = Status(status)
    if status == ticket.status:
        return ticket
    if staff_tier_level(by) is None:
        if by.pk != ticket.customer_id:
            raise PermissionDenied("Only the ticket's customer or staff may change its status.")
        if status not in CUSTOMER_TRANSITIONS.get(ticket.status, set()):
            raise ValidationError(
                f"A {ticket.get_status_display().lower()} ticket cannot be set to "
                f"{status.label.lower()}."
            )
        deadline = ticket_reopen_deadline(ticket)
        if deadline is not None and timezone.now() > deadline:
            raise ValidationError(
                f"{ticket.number} was closed more than {settings.TICKET_REOPEN_DAYS} days ago "
                "and can no longer be reopened: open a follow-up instead."
            )
    now = timezone.now()
    previous = ticket.status
    changed = ["status", "updated_at"]
    _leave_status(ticket, changed, to=status)
    ticket.status = status
    ticket.updated_at = now
    if status == Status.RESOLVED:
        ticket.resolved_at = now
        changed.append("resolved_at")
    elif status == Status.CLOSED:
        ticket.closed_at = now
        changed.append("closed_at")
    timers.status_changed(ticket, previous, now=now)
    changed += timers.FIELDS
    ticket.save(update_fields=changed)
    _event(
        ticket,
        by,
        TicketEvent.Kind.STATUS,
        f"Status {Status(previous).label} → {status.label}",
        {"from": previous, "to": status},
    )
    if status == Status.RESOLVED:
        emails.ticket_resolved(ticket)
    if status in (Status.RESOLVED, Status.CLOSED):
        ticket_resolved_page(ticket)
        # Unacknowledged on-call pages stop here: the secondary is not called for it.
        on_call_pages_close_for(
            service_id=ticket.service_id,
            dedup_key=f"ticket-{ticket.pk}",
            reason=OnCallPage.Closed.TICKET_RESOLVED
            if status == Status.RESOLVED
            else OnCallPage.Closed.TICKET_CLOSED,
            by=by,
            now=now,
        )
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket, priority, by):
    ticket = _locked(ticket)
    _require_staff(by)
    priority = _priority(ticket.service, priority)
    if priority.pk == ticket.priority_id:
        return ticket
    previous = ticket.priority.code
    ticket.priority = priority
    ticket.updated_at = timezone.now()
    # New targets, recomputed from the ticket's creation (minus paused time).
    timers.priority_changed(ticket)
    ticket.save(update_fields=["priority", "updated_at", *timers.FIELDS])
    _event(
        ticket,
        by,
        TicketEvent.Kind.PRIORITY,
        f"Priority {previous} → {priority.code}",
        {"from": previous, "to": priority.code},
    )
    return ticket


@transaction.atomic
def ticket_assign(*, ticket, assignee, by):
    """Assign to a staff member (or unassign with ``None``)."""
    ticket = _locked(ticket)
    _require_staff(by)
    if assignee is not None and staff_tier_level(assignee) is None:
        raise ValidationError({"assignee": "Only staff can be assigned a ticket."})
    if assignee is not None and not tickets_for_staff(user=assignee).filter(pk=ticket.pk).exists():
        raise ValidationError(
            {"assignee": f"{assignee.get_username()} cannot see this ticket (tier or service)."}
        )
    if (assignee.pk if assignee else None) == ticket.assignee_id:
        return ticket
    ticket.assignee = assignee
    ticket.updated_at = timezone.now()
    if assignee is not None:
        timers.picked_up(ticket)  # assigned in its tier: the pickup timer stops
    ticket.save(update_fields=["assignee", "updated_at", *timers.FIELDS])
    who = assignee.get_username() if assignee else "nobody"
    _event(
        ticket,
        by,
        TicketEvent.Kind.ASSIGNED,
        f"Assigned to {who}",
        {"assignee": assignee.pk if assignee else None},
    )
    return ticket


@transaction.atomic
def ticket_escalate(*, ticket, by, reason=""):
    """Move the ticket to the next tier; the new tier's staff are told."""
    ticket = _locked(ticket)
    if by is not None:
        _require_staff(by)
    if not ticket.is_active:
        raise ValidationError(f"{ticket.number} is {ticket.get_status_display().lower()}.")
    # The sweep's path: the new tier's pickup starts, its on-call people or members are told.
    escalate_manually(ticket, by=by, reason=reason, now=timezone.now())
    return ticket


@transaction.atomic
def ticket_rate(*, ticket, by, rating, comment=""):
    """The customer rates a resolved ticket, and may change the rating (and comment) for
    ``RATING_CHANGE_DAYS`` after its resolution. The ticket holds the latest rating, which
    the CSAT figures read; each rating is kept in the ticket's events."""
    ticket = _locked(ticket)
    if by.pk != ticket.customer_id:
        raise PermissionDenied("Only the ticket's customer may rate it.")
    deadline = ticket_rating_deadline(ticket)
    if deadline is None:
        raise ValidationError("Only a resolved ticket can be rated.")
    now = timezone.now()
    if now > deadline:
        raise ValidationError(
            "Ratings can be given or changed for 7 days after a ticket is resolved; this "
            "one's time has passed."
            if ticket.rating is None
            else "This rating can no longer be changed: 7 days have passed since the ticket "
            "was resolved."
        )
    if isinstance(rating, bool) or not str(rating).isdigit() or not 1 <= int(rating) <= 5:
        raise ValidationError({"rating": "Rate from 1 to 5."})
    previous = ticket.rating
    rating, comment = int(rating), comment.strip()
    if (previous, ticket.rating_comment) == (rating, comment):
        return ticket
    ticket.rating, ticket.rating_comment, ticket.rated_at = rating, comment, now
    ticket.save(update_fields=["rating", "rating_comment", "rated_at"])
    summary = f"Rated {rating}/5" if previous is None else f"Rating {previous}/5 → {rating}/5"
    _event(ticket, by, TicketEvent.Kind.RATED, summary, {"rating": rating, "from": previous})
    return ticket


@transaction.atomic
def ticket_cc_add(*, ticket, user, by):
    """CC ``user`` on the ticket: they hear of it as its customer does and may read and reply.

    The ticket's customer may CC colleagues of their organisation; a colleague who may read
    the ticket (their organisation shares tickets) may follow it, i.e. CC themselves.
    """
    ticket = _locked(ticket)
    if user.pk == ticket.customer_id:
        raise ValidationError({"user": "The ticket's customer hears of it already."})
    if by.pk == ticket.customer_id:
        if not ticket_cc_candidates(ticket=ticket).filter(pk=user.pk).exists() and not (
            TicketCC.objects.filter(ticket=ticket, user=user).exists()
        ):
            raise ValidationError(
                {"user": "Only active colleagues of your organisation can be CC'd."}
            )
    elif by.pk != user.pk or not ticket_customer_can_access(user=by, ticket=ticket):
        raise PermissionDenied("Only the ticket's customer may CC colleagues.")
    # No TicketEvent: the list of CCs is on the ticket itself, and events are status, reply …
    cc, _ = TicketCC.objects.get_or_create(ticket=ticket, user=user, defaults={"added_by": by})
    return cc


@transaction.atomic
def ticket_cc_remove(*, ticket, user, by):
    """Take ``user`` off the ticket's CCs: its customer may, and so may the CC themselves."""
    ticket = _locked(ticket)
    if by.pk not in (ticket.customer_id, user.pk):
        raise PermissionDenied("Only the ticket's customer may remove CCs.")
    TicketCC.objects.filter(ticket=ticket, user=user).delete()


def _leave_status(ticket, changed, *, to):
    """Clear what belonged to the status the ticket leaves: a reopened ticket is unresolved.

    Closing a resolved ticket keeps its resolution time (it was resolved, and may be rated).
    """
    if ticket.status == Status.RESOLVED and to != Status.CLOSED and ticket.resolved_at:
        ticket.resolved_at = None
        changed.append("resolved_at")
    if ticket.status == Status.CLOSED and ticket.closed_at is not None:
        ticket.closed_at = None
        changed.append("closed_at")
    reopened = ticket.status == Status.CLOSED and to not in (Status.RESOLVED, Status.CLOSED)
    if reopened and ticket.resolved_at is not None:
        # Reopened after closing: no longer resolved either.
        ticket.resolved_at = None
        changed.append("resolved_at")


def _check_text_size(text, *, field):
    try:
        validate_text_size(text)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


def _locked(ticket):
    """Re-read the ticket under a row lock so concurrent writers queue instead of clobbering."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("service", "priority", "priority__calendar")
        .get(pk=ticket.pk)
    )


def _require_staff(user):
    if staff_tier_level(user) is None:
        raise PermissionDenied("Only staff may do this.")


def _service(service):
    if isinstance(service, Service):
        return service
    try:
        return Service.objects.get(slug=service)
    except Service.DoesNotExist:
        raise ValidationError({"service": f"No service {service!r}."}) from None


def _priority(service, priority):
    if isinstance(priority, Priority):
        if priority.service_id != service.pk:
            raise ValidationError({"priority": f"{priority.code} is not a priority of {service}."})
    else:
        try:
            priority = Priority.objects.get(service=service, code=priority)
        except Priority.DoesNotExist:
            raise ValidationError(
                {"priority": f"{service} has no priority {priority!r}."}
            ) from None
    if priority.retired_at is not None:
        raise ValidationError({"priority": f"{priority.code} is no longer offered."})
    return priority


def _store_attachments(ticket, uploads, *, uploaded_by, message=None):
    for upload in uploads:
        attachment = Attachment(
            ticket=ticket, message=message, uploaded_by=uploaded_by, **attachment_fields(upload)
        )
        attachment.file.save(attachment.token, upload, save=False)
        attachment.save()


def _event(ticket, actor, kind, summary, data=None):
    return TicketEvent.objects.create(
        ticket=ticket, actor=actor, kind=kind, summary=summary, data=data or {}
    )
