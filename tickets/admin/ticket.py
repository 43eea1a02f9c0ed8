"""The ticket changelist and change page: staff work tickets here, every write a service call."""

from datetime import datetime, timedelta

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from core.admin import REFUSALS, ServiceWritesAdmin, error_text

from ..canned import canned_reply_values, render_canned_reply
from ..models import (
    Attachment,
    CannedReply,
    Message,
    Ticket,
    TicketEvent,
    TicketSlaStep,
    TimerOutcome,
)
from ..paging import EstimatedCountPaginator
from ..selectors import tickets_for_staff, tickets_worked_by
from ..services import (
    ticket_assign,
    ticket_escalate,
    ticket_reply,
    ticket_set_priority,
    ticket_set_status,
)
from ..templatetags.staff_time import human_duration, local_time, staff_zone
from .common import NUMBER
from .filters import (
    AssigneeFilter,
    PriorityFilter,
    QueueViewFilter,
    ServiceFilter,
    SlaFilter,
    TierFilter,
    sla_state,
)
from .forms import TicketAdminForm

Status = Ticket.Status
# What stopped a timer (TimerOutcome.ended_by), in words.
ENDED_BY = {"reply": "by a staff reply", "resolved": "on resolving", "closed": "on closing"}

# Instants of the ticket page, each shown in the reader's zone with the zone's name.
TIME_FIELDS = {
    "created_at": "opened",
    "updated_at": "last activity",
    "first_response_at": "first response",
    "response_due_at": "response due",
    "resolved_at": "resolved",
    "resolution_due_at": "resolution due",
    "paused_at": "paused since",
    "tier_entered_at": "entered its tier",
    "pickup_due_at": "pickup due",
    "closed_at": "closed",
    "rated_at": "rated",
}


def _time_display(field, label):
    @admin.display(description=label)
    def show(self, obj):
        return local_time(getattr(obj, field), getattr(obj, "_staff_zone", None) or obj_zone(obj))

    show.__name__ = f"{field}_display"
    return show


def obj_zone(obj):
    return staff_zone(None, obj.service)


@admin.register(Ticket)
class TicketAdmin(ServiceWritesAdmin):
    form = TicketAdminForm
    change_form_template = "admin/tickets/ticket/change_form.html"
    change_list_template = "admin/tickets/ticket/change_list.html"
    # Seven columns that fit 1280 px beside the filters (admin.css: .ticket-subject ellipsis).
    list_display = [
        "number_display",
        "subject_display",
        "customer_display",
        "priority_display",
        "sla_countdown",
        "tier",
        "assignee_display",
    ]
    # One link per row: each costs a URL resolve for the preserved filters.
    list_display_links = ["number_display"]
    list_filter = [
        QueueViewFilter,
        ServiceFilter,
        PriorityFilter,
        SlaFilter,
        "status",
        TierFilter,
        AssigneeFilter,
    ]
    list_select_related = ["service", "priority", "customer", "assignee"]
    list_per_page = 50
    # On a million tickets an exact COUNT(*) costs more than the page; above 20,000 rows the
    # page links use the planner's estimate.
    paginator = EstimatedCountPaginator
    # Most urgent first: the nearest running deadline, tickets with none (resolved, closed, no
    # target) last, newest first among equals; the ticket_next_due_id index holds this order.
    ordering = [F("next_due_at").asc(nulls_last=True), "-id"]
    # The customer's organisation, read by relation name: contracts (above tickets) holds
    # organisations, and tickets never imports it (as tickets.selectors does for colleagues).
    # None: the column shows the customer only.
    organisation_path = "customer__organization_membership__organization"
    search_fields = ["subject", "customer__email"]
    search_help_text = "Ticket number (#123 or 123), words of the subject, or the customer's email."
    # Counting the unfiltered table again for "N total" is a second full count on every page.
    show_full_result_count = False
    actions = ["assign_to_me", "escalate_to_next_tier", "resolve"]
    # The ticket's URL is the customer's page, which answers 404 to staff.
    view_on_site = False
    # The time logged on the ticket and a row to log more; the row is saved by its service.
    # Apps built on tickets add theirs (contracts: the time logged on the ticket).
    inlines = []

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))  # noqa: S308
    def action_checkbox(self, obj):
        # The same markup as Django's, without rendering a form widget through the template
        # engine for every row (a fifth of the changelist's time on 50 rows).
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            f"Select this object for an action - {obj}",
        )

    # Read-only fields that apps built on tickets add to the top of the change page (incidents
    # adds the incidents a ticket is linked to): tickets knows nothing of them.
    summary_fields = []

    readonly_fields = [
        "number_display",
        "subject",
        "service",
        "customer_display",
        "tier",
        "response_met",
        "resolution_met",
        "rating",
        "rating_comment",
        *(f"{field}_display" for field in TIME_FIELDS),
    ]

    work_fieldsets = [
        (
            "Reply",
            {
                "fields": ["canned_reply", "public_reply", "internal_note", "reply_attachments"],
                "description": "Write a public reply, an internal note, or both.",
            },
        ),
        (
            "Work on it",
            {"fields": ["status", "priority", "assignee", "tier", "escalate", "escalate_reason"]},
        ),
    ]

    # --- scope and permissions -------------------------------------------------------------

    def get_queryset(self, request):
        tickets = tickets_for_staff(user=request.user)
        related = ["service", "priority", "customer", "assignee"]
        if self.organisation_path:
            related.append(self.organisation_path)
        return tickets.select_related(*related)

    def get_object(self, request, object_id, from_field=None):
        """The ticket, if the member may work it; else, read-only, one they worked (replied,
        noted, was assigned, escalated) before it moved past their tier. Anything else: None
        ("doesn't exist")."""
        ticket = super().get_object(request, object_id, from_field)
        if ticket is not None:
            ticket._staff_may_change = True
        elif from_field is None and NUMBER.fullmatch(str(object_id)) and object_id.isdigit():
            ticket = (
                tickets_worked_by(user=request.user)
                .select_related("service", "priority", "customer", "assignee")
                .filter(pk=int(object_id))
                .first()
            )
            if ticket is not None:
                ticket._staff_may_change = False
        if ticket is not None:
            ticket._staff_zone = staff_zone(request.user, ticket.service)
        return ticket

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        may = getattr(obj, "_staff_may_change", None)
        if may is None:
            may = obj._staff_may_change = (
                tickets_for_staff(user=request.user).filter(pk=obj.pk).exists()
            )
        return may

    def has_add_permission(self, request):
        # Customers open tickets (ticket_create checks they may); staff work them.
        return False

    def has_delete_permission(self, request, obj=None):
        # Nobody, superusers included: a ticket's events are its audit trail, read-only for
        # everyone (TicketEvent's admin), so Django's delete page could only refuse after
        # offering the action. A ticket ends resolved or closed.
        return False

    # --- changelist ------------------------------------------------------------------------

    @admin.display(description="number", ordering="id")
    def number_display(self, obj):
        # The age rides along as a tooltip: a column of its own would not fit 1280 px.
        return format_html(
            '<span title="opened {} ago">{}</span>', timesince(obj.created_at, depth=1), obj.number
        )

    @admin.display(description="subject", ordering="subject")
    def subject_display(self, obj):
        """One line, cut with an ellipsis by CSS; the whole subject in the tooltip."""
        return format_html(
            '<span class="ticket-status ticket-status-{}">{}</span> '
            '<span class="ticket-subject" title="{}">{}</span>',
            obj.status,
            obj.get_status_display(),
            obj.subject,
            obj.subject,
        )

    @admin.display(description="priority", ordering="priority__position")
    def priority_display(self, obj):
        """The code as a badge, coloured by its rank in its service (first = most urgent)."""
        priority = obj.priority
        return format_html(
            '<span class="priority-badge priority-rank-{}" title="{} — {}: {}">{}</span>',
            min(priority.position, 4),
            obj.service.name,
            priority.code,
            priority.name,
            priority.code,
        )

    @admin.display(description="customer", ordering="customer__email")
    def customer_display(self, obj):
        """The name (the address as its tooltip; the address alone when there is no name),
        and the organisation under it."""
        email = obj.customer.email
        name = obj.customer.get_full_name() or email
        organisation = self._organisation(obj)
        return format_html(
            '<span class="ticket-customer" title="{}">{}</span>{}',
            email,
            name,
            format_html('<span class="ticket-org">{}</span>', organisation) if organisation else "",
        )

    def _organisation(self, obj):
        if not self.organisation_path:
            return None
        value = obj
        for part in self.organisation_path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    @admin.display(description="assignee", ordering="assignee__username")
    def assignee_display(self, obj):
        """Their name (the username as its tooltip), cut to the column's width."""
        if not obj.assignee_id:
            return "—"
        user = obj.assignee
        return format_html(
            '<span class="ticket-assignee" title="{}">{}</span>',
            user.get_username(),
            user.get_full_name() or user.get_username(),
        )

    @admin.display(description="SLA", ordering=F("next_due_at").asc(nulls_last=True))
    def sla_countdown(self, obj):
        """Time to the nearest running deadline, coloured ok / at risk / breached / paused;
        sorting by it is most urgent first."""
        state, label = sla_state(obj, timezone.now())
        return format_html('<span class="sla sla-{}">{}</span>', state, label)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "ticket_views": QueueViewFilter.VIEWS,
            # The queue is the page staff live on: its columns get the sidebar's width (the
            # breadcrumbs and the index lead elsewhere).
            "is_nav_sidebar_enabled": False,
        }
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        number = NUMBER.fullmatch(term)
        if number and term.startswith("#"):
            return queryset.filter(pk=int(number[1])), False
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if number:
            results = results | queryset.filter(pk=int(number[1]))
        return results, may_have_duplicates

    # --- change page -----------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                None,
                {
                    "fields": [
                        "number_display",
                        "subject",
                        "service",
                        "customer_display",
                        *self.summary_fields,
                    ]
                },
            ),
        ]
        if obj is not None and self.has_change_permission(request, obj):
            fieldsets += self.work_fieldsets
        else:
            fieldsets.append(("Work on it", {"fields": ["status", "priority", "assignee", "tier"]}))
        fieldsets += [
            (
                "Service level",
                {
                    "fields": [
                        ("created_at_display", "updated_at_display"),
                        ("first_response_at_display", "response_due_at_display"),
                        ("resolved_at_display", "resolution_due_at_display"),
                        ("response_met", "resolution_met"),
                        ("paused_at_display", "tier_entered_at_display", "pickup_due_at_display"),
                        "closed_at_display",
                    ]
                },
            ),
            (
                "Customer rating",
                {
                    "fields": ["rating", "rating_comment", "rated_at_display"],
                    "classes": ["collapse"],
                },
            ),
        ]
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None or "canned_reply" not in form.base_fields:
            return form
        zone = getattr(obj, "_staff_zone", None) or staff_zone(request.user, obj.service)
        values = canned_reply_values(obj, zone)
        replies = [
            (reply.pk, reply.title, render_canned_reply(reply.body, values))
            for reply in CannedReply.objects.filter(service_id=obj.service_id)
        ]

        class TicketFormWithReplies(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.set_canned_replies(replies)

        return TicketFormWithReplies

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._ticket_history(obj, request))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _ticket_history(self, ticket, request):
        """The conversation and the timeline, in a fixed number of queries however long."""
        conversation = list(
            Message.objects.filter(ticket=ticket)
            .select_related("author")
            .prefetch_related("attachments")
            .order_by("created_at", "id")
        )
        zone = getattr(ticket, "_staff_zone", None) or staff_zone(request.user, ticket.service)
        events = list(
            TicketEvent.objects.filter(ticket=ticket)
            .select_related("actor")
            .order_by("created_at", "id")
        )
        return {
            "ticket": ticket,
            "zone": zone,
            "moved_on": None
            if self.has_change_permission(request, ticket)
            else self._moved_on(ticket, events),
            "opening_attachments": list(
                Attachment.objects.filter(ticket=ticket, message__isnull=True)
            ),
            "conversation": conversation,
            "events": events,
            "sla": self._sla_timeline(ticket, zone),
        }

    @staticmethod
    def _moved_on(ticket, events):
        """Where a ticket the reader worked (and may no longer change) went, and who has it."""
        escalation = next(
            (event for event in reversed(events) if event.kind == TicketEvent.Kind.ESCALATED),
            None,
        )
        return {
            "tier": ticket.tier,
            "assignee": ticket.assignee,
            "escalation": escalation,
        }

    def _sla_timeline(self, ticket, zone):
        """Timers, pauses, steps and outcomes in time order (two queries, however many)."""
        now = timezone.now()
        state, label = sla_state(ticket, now)
        entries = []
        for start, end, *status in ticket.sla_pauses or ():
            reason = Status(status[0]).label if status and status[0] in Status.values else ""
            start = datetime.fromisoformat(start)
            if end:
                end = datetime.fromisoformat(end)
                detail = f"until {local_time(end, zone)} ({human_duration(end - start)})"
            else:
                detail = f"still paused ({human_duration(now - start)} so far)"
            entries.append(
                {"at": start, "what": f"Resolution timer paused ({reason})", "detail": detail}
            )
        for step in TicketSlaStep.objects.filter(ticket=ticket).select_related("actor"):
            entries.append(
                {
                    "at": step.at,
                    "what": f"{step.get_timer_display()}: {step.get_step_display()}",
                    "detail": step.detail
                    or (f"due {local_time(step.due_at, zone)}" if step.timer != "manual" else ""),
                    "who": step.actor,
                }
            )
        for outcome in TimerOutcome.objects.filter(ticket=ticket):
            verdict = "met" if outcome.met else "breached"
            ended_by = ENDED_BY.get(outcome.ended_by, outcome.ended_by)
            entries.append(
                {
                    "at": outcome.finished_at,
                    "what": f"{outcome.get_timer_display()} {verdict} ({ended_by})",
                    "detail": f"due {local_time(outcome.due_at, zone)}; "
                    f"{human_duration(outcome.delta)} "
                    f"{'late' if outcome.delta > timedelta(0) else 'early'} in open hours",
                }
            )
        entries.sort(key=lambda entry: entry["at"])
        return {"state": state, "label": label, "entries": entries}

    def save_model(self, request, obj, form, change):
        if not change:
            raise PermissionDenied("Tickets are opened by customers.")
        super().save_model(request, obj, form, change)

    def write(self, request, obj, form, change):
        """Route each change through its service; nothing about a ticket is saved raw. In a
        savepoint (``ServiceWritesAdmin``): when one service refuses, the others' writes (and
        emails) go too."""
        self._apply_changes(request, obj, form)

    def _apply_changes(self, request, ticket, form):
        data, changed, user = form.cleaned_data, set(form.changed_data), request.user
        files = data.get("reply_attachments") or []
        # The message first: a reply and a status change saved together read in that order.
        # Files go with the public reply, else with the internal note.
        if (data.get("public_reply") or "").strip():
            ticket_reply(ticket=ticket, author=user, body=data["public_reply"], attachments=files)
            files = []
        if (data.get("internal_note") or "").strip():
            ticket_reply(
                ticket=ticket,
                author=user,
                body=data["internal_note"],
                internal=True,
                attachments=files,
            )
        if "status" in changed:
            ticket_set_status(ticket=ticket, status=data["status"], by=user)
        if "priority" in changed:
            ticket_set_priority(ticket=ticket, priority=data["priority"], by=user)
        if "assignee" in changed:
            ticket_assign(ticket=ticket, assignee=data["assignee"], by=user)
        if data.get("escalate"):
            ticket_escalate(ticket=ticket, by=user, reason=data["escalate_reason"].strip())

    def save_related(self, request, form, formsets, change):
        # A ticket has no many-to-many fields; the services did the work. Inline formsets (time
        # logged) save through their own services, unless the change was refused.
        if self.refused(request):
            return super().save_related(request, form, formsets, change)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def response_change(self, request, obj):
        if self.refused(request):
            return super().response_change(request, obj)
        if not self.get_queryset(request).filter(pk=obj.pk).exists():
            # Escalated past the member's own tier: they can no longer change it, so back to
            # the list, told where it went; they keep reading it (tickets_worked_by).
            obj.refresh_from_db(fields=["tier", "assignee"])
            who = obj.assignee.get_username() if obj.assignee_id else "not assigned yet"
            self.message_user(
                request,
                format_html(
                    '{} now belongs to a higher tier: Tier {}, {}. You can still <a href="{}">'
                    "read it</a>.",
                    obj.number,
                    obj.tier,
                    who,
                    reverse("admin:tickets_ticket_change", args=[obj.pk]),
                ),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:tickets_ticket_changelist"))
        return super().response_change(request, obj)

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda ticket: ticket_assign(ticket=ticket, assignee=request.user, by=request.user),
            done="assigned to you",
        )

    @admin.action(description="Escalate to next tier", permissions=["change"])
    def escalate_to_next_tier(self, request, queryset):
        # A bulk action records a fixed reason; a considered reason belongs on the ticket page,
        # where the escalation form asks for one.
        reason = f"Escalated from the ticket list by {request.user.get_username()}"
        self._each(
            request,
            queryset,
            lambda ticket: ticket_escalate(ticket=ticket, by=request.user, reason=reason),
            done="escalated to the next tier",
        )

    @admin.action(description="Resolve", permissions=["change"])
    def resolve(self, request, queryset):
        def resolve_one(ticket):
            if not ticket.is_active:
                raise ValidationError(f"it is already {ticket.get_status_display().lower()}.")
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=request.user)

        self._each(request, queryset, resolve_one, done="resolved")

    def _each(self, request, queryset, act, *, done):
        """Run ``act`` on each ticket on its own; report what worked and what was refused."""
        succeeded = []
        for ticket in queryset.order_by("id"):
            try:
                act(ticket)
            except REFUSALS as exc:
                self.message_user(
                    request, f"{ticket.number} not {done}: {error_text(exc)}", messages.ERROR
                )
            else:
                succeeded.append(ticket.number)
        if succeeded:
            noun = "ticket" if len(succeeded) == 1 else "tickets"
            self.message_user(
                request,
                f"{len(succeeded)} {noun} {done}: {', '.join(succeeded)}.",
                messages.SUCCESS,
            )


for _field, _label in TIME_FIELDS.items():
    setattr(TicketAdmin, f"{_field}_display", _time_display(_field, _label))
