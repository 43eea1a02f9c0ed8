"""The customer's ticket pages. Reads go through the selectors, writes through the services.

Every page is for the signed-in customer and reaches a ticket only through
``ticket_get_for_customer``: someone else's ticket answers 404, whoever asks (staff included;
staff work tickets in admin).
"""

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Window
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.forms import apply_service_errors
from accounts.selectors import user_timezone
from sla.models import Priority, Service
from sla.selectors import customer_services

from . import services
from .attachments import download_response
from .forms import CcForm, RatingForm, ReplyForm, StatusForm, TicketFilterForm, TicketForm
from .models import Ticket
from .promise import customer_zone, ticket_promise
from .selectors import (
    attachment_get_for_user,
    customer_colleague_organization,
    ticket_cc_list,
    ticket_conversation_for_customer,
    ticket_get_for_customer,
    ticket_list_for_customer,
    ticket_rating_deadline,
    ticket_reopen_deadline,
)

TICKETS_PER_PAGE = 25


def customer_ticket(*methods):
    """Load a ticket the signed-in user may read (``ticket_get_for_customer``: their own, one
    they are CC'd on, or a colleague's when their organisation shares), then check the method.

    Ownership is checked before the method so that another customer's id answers 404 to any
    method: no status code tells a stranger whether an id exists.
    """

    def decorator(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, ticket_id, **kwargs):
            ticket = ticket_get_for_customer(user=request.user, ticket_id=ticket_id)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, ticket, **kwargs)

        return wrapper

    return decorator


def _zone(name):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@dataclass(slots=True)
class ListRow:
    """A row of "my tickets": what the row shows (``ticket_row``), read as plain values. Built
    as model instances, the page's 25 tickets with their services and priorities were about a
    fifth of the page's CPU (a ticket has ~25 fields to set, even deferred)."""

    pk: int
    subject: str
    status: str
    updated_at: datetime
    service: Service  # shared by the page's rows of the service: id, name, timezone
    priority: Priority  # shared likewise: id, code, name, description (its ``label``)
    updated_iso: str = ""
    updated_display: str = ""

    number = property(Ticket.number.fget)


_LIST_ROW_VALUES = (
    "pk",
    "subject",
    "status",
    "updated_at",
    "service_id",
    "service__name",
    "service__timezone",
    "priority_id",
    "priority__code",
    "priority__name",
    "priority__description",
    "list_total",
)


def _instance(model, db, **values):
    """``model`` as the ORM builds it from a row of some of its columns (the others deferred:
    read on demand, so nothing shows less than the row holds)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(db, names, [values[name] for name in names])


def _list_rows(values, db):
    services, priorities, rows = {}, {}, []
    for pk, subject, status, updated_at, sid, sname, stz, pid, code, name, description, _ in values:
        service = services.get(sid)
        if service is None:
            service = services[sid] = _instance(Service, db, id=sid, name=sname, timezone=stz)
        priority = priorities.get(pid)
        if priority is None:
            priority = priorities[pid] = _instance(
                Priority, db, id=pid, code=code, name=name, description=description
            )
        rows.append(ListRow(pk, subject, status, updated_at, service, priority))
    return rows


def _page_with_count(tickets, number):
    """``Paginator(tickets, TICKETS_PER_PAGE).get_page(number)``, in one query where it can:
    the page's rows carry the list's total (``COUNT(*) OVER ()``, counted before the
    ``LIMIT``), so the paginator need not count first; they come as ``ListRow`` values. A
    number that is not a plain page number, or a page past the end, goes to ``get_page``
    itself, which answers as always (page 1, the last page) with the tickets themselves."""
    paginator = Paginator(tickets, TICKETS_PER_PAGE)
    number = number or "1"
    # Not a plain number, page 0, or a number whose offset the database cannot hold: as always.
    if not (number.isascii() and number.isdigit()) or int(number) < 1 or len(number) > 9:
        return paginator.get_page(number)
    number = int(number)
    bottom = (number - 1) * TICKETS_PER_PAGE
    values = list(
        tickets.annotate(list_total=Window(Count("pk"))).values_list(*_LIST_ROW_VALUES)[
            bottom : bottom + TICKETS_PER_PAGE
        ]
    )
    if values:
        paginator.count = values[0][-1]
    elif number == 1:
        paginator.count = 0  # no ticket at all: the empty first page
    else:
        return paginator.get_page(number)
    return Page(_list_rows(values, tickets.db), number, paginator)


@login_required
@require_http_methods(["GET", "HEAD"])
def ticket_list(request):
    services_ = customer_services(request.user)
    filter_form = TicketFilterForm(request.GET or None, services=services_)
    tickets = ticket_list_for_customer(
        user=request.user, include_shared=True, **filter_form.filters()
    )
    page = _page_with_count(tickets, request.GET.get("page"))
    preferred = user_timezone(user=request.user)
    zones = {}
    for ticket in page:
        # Times read in the customer's chosen zone, else in the zone of the ticket's service.
        # Formatted here once: a date filter per row costs more than the rest of the row.
        name = preferred or ticket.service.timezone
        zone = zones.get(name) or zones.setdefault(name, _zone(name))
        local = timezone.localtime(ticket.updated_at, zone)
        ticket.updated_iso = ticket.updated_at.isoformat()
        ticket.updated_display = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return render(
        request,
        "tickets/list.html",
        {
            "page": page,
            "filter_form": filter_form,
            "filtered": any(filter_form.filters().values()),
            "has_services": bool(services_),
            "shared_organization": customer_colleague_organization(user=request.user),
        },
    )


def _follow_up_of(request, value):
    """The closed ticket of the user's own that a new ticket follows up, or None."""
    if not value:
        return None
    ticket = ticket_get_for_customer(user=request.user, ticket_id=value)
    if not ticket.viewer_is_owner or ticket.status != Ticket.Status.CLOSED:
        raise Http404("No such ticket.")
    return ticket


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    follow_up_of = _follow_up_of(
        request, request.POST.get("follow_up") or request.GET.get("follow_up")
    )
    if request.method == "POST":
        form = TicketForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_create(
                    customer=request.user,
                    service=data["service"],
                    priority=data["priority"],
                    subject=data["subject"],
                    description=data["description"],
                    attachments=data["attachments"],
                    follow_up_of=follow_up_of,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return redirect("tickets:submitted", ticket_id=ticket.pk)
    else:
        initial = {}
        if follow_up_of is not None:
            initial = {
                "follow_up": follow_up_of.pk,
                "service": follow_up_of.service_id,
                "subject": f"Follow-up: {follow_up_of.subject}"[:200],
            }
        form = TicketForm(user=request.user, initial=initial)
    return render(
        request,
        "tickets/new.html",
        {"form": form, "has_services": bool(form.services), "follow_up_of": follow_up_of},
    )


@customer_ticket("GET", "HEAD")
def ticket_submitted(request, ticket):
    zone = customer_zone(request.user, ticket.service)
    promise = ticket_promise(ticket, zone=zone, now=timezone.now())
    return render(request, "tickets/submitted.html", {"ticket": ticket, "promise": promise})


@customer_ticket("GET", "HEAD")
def ticket_detail(request, ticket):
    return _render_detail(request, ticket)


@customer_ticket("POST")
def ticket_reply(request, ticket):
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except PermissionDenied:
            raise Http404("No such ticket.") from None
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Your reply has been added.")
            return redirect(ticket)
    # Re-render with what was typed, so a refused file does not cost the customer their text.
    return _render_detail(request, ticket, reply_form=form)


@customer_ticket("GET", "HEAD")
def ticket_close(request, ticket):
    """ "Close ticket" asks first: this page says what closing means and posts the change."""
    if not ticket.viewer_is_owner:
        raise Http404("No such ticket.")
    if ticket.status == Ticket.Status.CLOSED:
        return redirect(ticket)
    return render(
        request,
        "tickets/close_confirm.html",
        {"ticket": ticket, "reopen_days": settings.TICKET_REOPEN_DAYS},
    )


@customer_ticket("POST")
def ticket_cc(request, ticket):
    """Add or remove a CC (the customer), or follow / stop following (a colleague: CC self)."""
    action = request.POST.get("action")
    try:
        if action == "add" and ticket.viewer_is_owner:
            form = CcForm(request.POST, ticket=ticket)
            if not form.is_valid():
                messages.error(request, "Choose a colleague of your organisation.")
                return redirect(f"{ticket.get_absolute_url()}#ccs")
            user = form.cleaned_data["user"]
            services.ticket_cc_add(ticket=ticket, user=user, by=request.user)
            messages.success(request, f"{user.email} is CC'd on {ticket.number}.")
        elif action == "remove" and ticket.viewer_is_owner:
            cc = next(
                (
                    c
                    for c in ticket_cc_list(ticket=ticket)
                    if str(c.user_id) == request.POST.get("user")
                ),
                None,
            )
            if cc is not None:
                services.ticket_cc_remove(ticket=ticket, user=cc.user, by=request.user)
                messages.success(request, f"{cc.user.email} is no longer CC'd.")
        elif action == "follow" and not ticket.viewer_is_owner:
            services.ticket_cc_add(ticket=ticket, user=request.user, by=request.user)
            messages.success(request, f"You follow {ticket.number}: its emails come to you too.")
        elif action == "unfollow" and not ticket.viewer_is_owner:
            services.ticket_cc_remove(ticket=ticket, user=request.user, by=request.user)
            messages.success(request, f"You no longer follow {ticket.number}.")
        else:
            messages.error(request, "That change is not available.")
    except PermissionDenied:
        raise Http404("No such ticket.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(f"{ticket.get_absolute_url()}#ccs")


@customer_ticket("POST")
def ticket_status(request, ticket):
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That status change is not available.")
        return redirect(ticket)
    try:
        services.ticket_set_status(
            ticket=ticket, status=form.cleaned_data["status"], by=request.user
        )
    except PermissionDenied:
        raise Http404("No such ticket.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if form.cleaned_data["status"] == Ticket.Status.CLOSED:
            messages.success(
                request,
                f"Ticket {ticket.number} is closed. You can reopen it for "
                f"{settings.TICKET_REOPEN_DAYS} days.",
            )
        else:
            messages.success(request, f"Ticket {ticket.number} is open again.")
    return redirect(ticket)


@customer_ticket("POST")
def ticket_rate(request, ticket):
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, ticket, rating_form=form)
    try:
        services.ticket_rate(
            ticket=ticket,
            by=request.user,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        )
    except PermissionDenied:
        raise Http404("No such ticket.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Thank you for your rating. You can change it for 7 days.")
    return redirect(f"{ticket.get_absolute_url()}#rate")


@login_required
def attachment_download(request, ticket_id, attachment_id):
    attachment = attachment_get_for_user(
        user=request.user, ticket_id=ticket_id, attachment_id=attachment_id
    )
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return download_response(
        attachment.file, filename=attachment.name, content_type=attachment.content_type
    )


def _in_an_organisation(user):
    """Whether ``user`` belongs to an organisation: read through the membership relation by name
    (tickets sits below contracts), loaded with the user's row (``ACCOUNTS_USER_PRELOADS``),
    else one query."""
    try:
        user.organization_membership  # noqa: B018 -- the read is the question
    except (AttributeError, ObjectDoesNotExist):
        return False
    return True


def _render_detail(request, ticket, *, reply_form=None, rating_form=None, status=200):
    now = timezone.now()
    owner = ticket.viewer_is_owner
    reopen_until = ticket_reopen_deadline(ticket)
    rate_until = ticket_rating_deadline(ticket)
    can_rate = owner and rate_until is not None and now <= rate_until
    if can_rate and rating_form is None:
        rating_form = RatingForm(
            initial={"rating": ticket.rating, "comment": ticket.rating_comment}
            if ticket.rating
            else None
        )
    ccs = ticket_cc_list(ticket=ticket)
    zone = customer_zone(request.user, ticket.service)
    conversation, opening_attachments = ticket_conversation_for_customer(ticket=ticket)
    context = {
        "ticket": ticket,
        "viewer_is_owner": owner,
        "zone": zone,
        "promise": ticket_promise(ticket, zone=zone, now=now),
        "conversation": conversation,
        "opening_attachments": opening_attachments,
        "reply_form": reply_form or ReplyForm(),
        "can_reply": ticket.status != Ticket.Status.CLOSED,
        "can_close": owner and ticket.status != Ticket.Status.CLOSED,
        "can_reopen": owner
        and (
            ticket.status == Ticket.Status.RESOLVED
            or (reopen_until is not None and now <= reopen_until)
        ),
        "reopen_until": reopen_until,
        "can_follow_up": owner and reopen_until is not None and now > reopen_until,
        "rating_form": rating_form if can_rate else None,
        "rate_until": rate_until,
        "ccs": ccs,
        # A customer in no organisation has no colleague to CC: no query for the candidates.
        "cc_form": CcForm(ticket=ticket) if owner and _in_an_organisation(request.user) else None,
        "following": any(cc.user_id == request.user.pk for cc in ccs),
        "reply_url": reverse("tickets:reply", args=[ticket.pk]),
    }
    return render(request, "tickets/detail.html", context, status=status)
