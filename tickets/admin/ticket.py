"""The ticket changelist and change page: staff work tickets here, every write a service call."""

from datetime import datetime, timedelta

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from ..models import Attachment, Message, Ticket, TicketEvent, TicketSlaStep, TimerOutcome
from ..paging import EstimatedCountPaginator
from ..selectors import tickets_for_staff
from ..services import (
    ticket_assign,
    ticket_escalate,
    ticket_reply,
    ticket_set_priority,
    ticket_set_status,
)
from .common import NUMBER, error_text
from .filters import AssigneeFilter, PriorityCodeFilter, SlaFilter, TierFilter, sla_state
from .forms import TicketAdminForm

Status = Ticket.Status


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    change_form_template = "admin/tickets/ticket/change_form.html"
    list_display = [
        "number_display",
        "subject",
        "service",
        "priority_display",
        "status",
        "tier",
        "assignee",
        "customer_display",
        "age",
        "sla_countdown",
        "response_due_at",
        "resolution_due_at",
    ]
    # One link per row: each costs a URL resolve for the preserved filters.
    list_display_links = ["number_display"]
    list_filter = ["service", SlaFilter, PriorityCodeFilter, "status", TierFilter, AssigneeFilter]
    list_select_related = ["service", "priority", "customer", "assignee"]
    list_per_page = 50
    # On a million tickets an exact COUNT(*) costs more than the page; above 20,000 rows the
    # page links use the planner's estimate.
    paginator = EstimatedCountPaginator
    # Creation order: the primary key index serves it, even on a million rows.
    ordering = ["-id"]
    search_fields = ["subject", "customer__email"]
    search_help_text = "Ticket number (#123 or 123), words of the subject, or the customer's email."
    # Counting the unfiltered table again for "N total" is a second full count on every page.
    show_full_result_count = False
    actions = ["assign_to_me", "escalate_to_next_tier", "resolve", "open_incident"]
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

    readonly_fields = [
        "number_display",
        "subject",
        "service",
        "customer_display",
        "created_at",
        "updated_at",
        "tier",
        "first_response_at",
        "response_due_at",
        "resolution_due_at",
        "response_met",
        "resolution_met",
        "paused_at",
        "tier_entered_at",
        "pickup_due_at",
        "resolved_at",
        "closed_at",
        "rating",
        "rating_comment",
        "rated_at",
        "incidents_display",
    ]
    work_fieldsets = [
        (
            "Reply",
            {
                "fields": ["public_reply", "internal_note"],
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
        return tickets.select_related("service", "priority", "customer", "assignee")

    def has_add_permission(self, request):
        # Customers open tickets (ticket_create checks they may); staff work them.
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    # --- changelist ------------------------------------------------------------------------

    @admin.display(description="number", ordering="id")
    def number_display(self, obj):
        return obj.number

    @admin.display(description="priority", ordering="priority__code")
    def priority_display(self, obj):
        return obj.priority.code

    @admin.display(description="customer", ordering="customer__email")
    def customer_display(self, obj):
        name = obj.customer.get_full_name()
        return f"{name} <{obj.customer.email}>" if name else obj.customer.email

    @admin.display(description="age", ordering="created_at")
    def age(self, obj):
        return timesince(obj.created_at, depth=1)

    @admin.display(description="SLA", ordering="next_due_at")
    def sla_countdown(self, obj):
        """The nearest running deadline, coloured by state; sorting by it is nearest first."""
        state, label = sla_state(obj, timezone.now())
        return format_html('<span class="sla sla-{}">{}</span>', state, label)

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
                        "incidents_display",
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
                        ("created_at", "updated_at"),
                        ("first_response_at", "response_due_at"),
                        ("resolved_at", "resolution_due_at"),
                        ("response_met", "resolution_met"),
                        ("paused_at", "tier_entered_at", "pickup_due_at"),
                        "closed_at",
                    ]
                },
            ),
            (
                "Customer rating",
                {"fields": ["rating", "rating_comment", "rated_at"], "classes": ["collapse"]},
            ),
        ]
        return fieldsets

    @admin.display(description="incidents")
    def incidents_display(self, obj):
        """The incidents this ticket is linked to, and a link to open one from it."""
        from incidents.admin import incident_add_url  # incidents depends on tickets, not back
        from incidents.selectors import incidents_of_ticket

        links = format_html_join(
            ", ",
            '<a href="{}">{}</a> ({}, {})',
            (
                (
                    reverse("admin:incidents_incident_change", args=[incident.pk]),
                    str(incident),
                    incident.step,
                    "resolved" if incident.resolved_at else "open",
                )
                for incident in incidents_of_ticket(obj)
            ),
        )
        opener = format_html(
            '<a class="open-incident" href="{}">Open an incident from this ticket</a>',
            incident_add_url([obj]),
        )
        return format_html("{} {}", links, opener) if links else opener

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._ticket_history(obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _ticket_history(self, ticket):
        """The conversation and the timeline, in a fixed number of queries however long."""
        conversation = list(
            Message.objects.filter(ticket=ticket)
            .select_related("author")
            .prefetch_related("attachments")
            .order_by("created_at", "id")
        )
        return {
            "ticket": ticket,
            "opening_attachments": list(
                Attachment.objects.filter(ticket=ticket, message__isnull=True)
            ),
            "conversation": conversation,
            "events": list(
                TicketEvent.objects.filter(ticket=ticket)
                .select_related("actor")
                .order_by("created_at", "id")
            ),
            "sla": self._sla_timeline(ticket),
        }

    def _sla_timeline(self, ticket):
        """Timers, pauses, steps and outcomes in time order (two queries, however many)."""
        now = timezone.now()
        state, label = sla_state(ticket, now)
        entries = []
        for start, end, *status in ticket.sla_pauses or ():
            reason = Status(status[0]).label if status and status[0] in Status.values else ""
            entries.append(
                {
                    "at": datetime.fromisoformat(start),
                    "what": f"Resolution timer paused ({reason})",
                    "detail": f"until {end}" if end else "still paused",
                }
            )
        for step in TicketSlaStep.objects.filter(ticket=ticket).select_related("actor"):
            entries.append(
                {
                    "at": step.at,
                    "what": f"{step.get_timer_display()}: {step.get_step_display()}",
                    "detail": step.detail
                    or (f"due {step.due_at:%Y-%m-%d %H:%M} UTC" if step.timer != "manual" else ""),
                    "who": step.actor,
                }
            )
        for outcome in TimerOutcome.objects.filter(ticket=ticket):
            verdict = "met" if outcome.met else "breached"
            entries.append(
                {
                    "at": outcome.finished_at,
                    "what": f"{outcome.get_timer_display()} {verdict} ({outcome.ended_by})",
                    "detail": f"due {outcome.due_at:%Y-%m-%d %H:%M} UTC, "
                    f"{'late' if outcome.delta > timedelta(0) else 'early'} by "
                    f"{abs(outcome.delta)} of open time",
                }
            )
        entries.sort(key=lambda entry: entry["at"])
        return {"state": state, "label": label, "entries": entries}

    def save_model(self, request, obj, form, change):
        """Route each change through its service; nothing about a ticket is saved raw."""
        if not change:
            raise PermissionDenied("Tickets are opened by customers.")
        try:
            # A savepoint: when one service refuses, the others' writes (and emails) go too.
            with transaction.atomic():
                self._apply_changes(request, obj, form)
        except (ValidationError, PermissionDenied) as exc:
            request._ticket_admin_failed = True
            self.message_user(request, f"Nothing was saved: {error_text(exc)}", messages.ERROR)

    def _apply_changes(self, request, ticket, form):
        data, changed, user = form.cleaned_data, set(form.changed_data), request.user
        # The message first: a reply and a status change saved together read in that order.
        if (data.get("public_reply") or "").strip():
            ticket_reply(ticket=ticket, author=user, body=data["public_reply"])
        if (data.get("internal_note") or "").strip():
            ticket_reply(ticket=ticket, author=user, body=data["internal_note"], internal=True)
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
        # logged) save through their own services, unless save_model refused the whole change.
        for formset in formsets:
            if getattr(request, "_ticket_admin_failed", False):
                formset.new_objects = formset.changed_objects = formset.deleted_objects = []
            else:
                self.save_formset(request, form, formset, change=change)

    def log_change(self, request, obj, message):
        if getattr(request, "_ticket_admin_failed", False):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(request, "_ticket_admin_failed", False):
            return HttpResponseRedirect(request.path)
        if not self.get_queryset(request).filter(pk=obj.pk).exists():
            # Escalated past the member's own tier: the ticket is gone for them, so "continue
            # editing" would land on "doesn't exist". Say where it went instead.
            self.message_user(
                request, f"{obj.number} now belongs to a higher tier.", messages.SUCCESS
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

    @admin.action(description="Open an incident for these tickets", permissions=["change"])
    def open_incident(self, request, queryset):
        """To the incident's add page, prefilled from the tickets (one service at a time)."""
        from incidents.admin import incident_add_url  # incidents depends on tickets, not back

        tickets = list(queryset.select_related("priority").order_by("priority__position", "id"))
        if len({ticket.service_id for ticket in tickets}) != 1:
            self.message_user(
                request, "Choose tickets of one service to open an incident.", messages.ERROR
            )
            return None
        return HttpResponseRedirect(incident_add_url(tickets))

    def _each(self, request, queryset, act, *, done):
        """Run ``act`` on each ticket on its own; report what worked and what was refused."""
        succeeded = []
        for ticket in queryset.order_by("id"):
            try:
                act(ticket)
            except (ValidationError, PermissionDenied) as exc:
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
