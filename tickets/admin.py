"""Staff work tickets here. The admin displays and delegates: every write goes through services.

What a staff member sees is scoped by ``tickets_for_staff``: a tier-N member sees tickets whose
current tier is at most N, so an out-of-scope ticket "doesn't exist" for them in every view.
"""

import re
from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince

from accounts.roles import TIER_LEVELS, TOP_TIER, staff_tier_level, tier_group_name
from sla.models import Priority

from .models import Attachment, Message, Ticket, TicketEvent, TicketSlaStep, TimerOutcome
from .paging import EstimatedCountPaginator
from .selectors import tickets_for_staff
from .services import (
    ticket_assign,
    ticket_escalate,
    ticket_reply,
    ticket_set_priority,
    ticket_set_status,
)

Status = Ticket.Status

# "#123" names exactly one ticket; a bare "123" also matches subjects and emails. Bounded so a
# pasted phone number cannot overflow a bigint.
_NUMBER = re.compile(r"#?\s*([0-9]{1,18})")


def _error_text(exc):
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


def _staff_users():
    return get_user_model().objects.filter(is_active=True, is_staff=True)


class PriorityCodeFilter(admin.SimpleListFilter):
    """Priorities by code: "P1" across every service rather than one entry per service."""

    title = "priority"
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        codes = Priority.objects.order_by("code").values_list("code", flat=True).distinct()
        return [(code, code) for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(priority__code=self.value())
        return queryset


class TierFilter(admin.SimpleListFilter):
    # The tiers are fixed, so no SELECT DISTINCT over the whole ticket table.
    title = "tier"
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        level = staff_tier_level(request.user) or 0
        return [(str(n), f"Tier {n}") for n in TIER_LEVELS if n <= level]

    def queryset(self, request, queryset):
        if self.value() in {str(n) for n in TIER_LEVELS}:
            return queryset.filter(tier=int(self.value()))
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    """Mine, unassigned, or a staff member's (never a list of every customer account)."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        staff = _staff_users().exclude(pk=request.user.pk).order_by("username")
        return [("me", "Mine"), ("none", "Unassigned")] + [
            (str(user.pk), user.get_username()) for user in staff
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


def sla_state(ticket, now):
    """``(state, label)`` of a ticket's running timers, from its own columns (no query).

    breached: a running deadline has passed · at risk: past a warning instant · paused: the
    resolution timer is stopped · on track · met / missed: both timers have ended.
    """
    if not ticket.is_active:
        ended = [ticket.response_met, ticket.resolution_met]
        if False in ended:
            return "breached", "missed"
        if True in ended:
            return "met", "met"
        return "none", "—"
    running = [(ticket.response_due_at, ticket.response_warn_at)]
    if ticket.paused_at is None:
        running.append((ticket.resolution_due_at, ticket.resolution_warn_at))
    running = [(due, warn) for due, warn in running if due is not None]
    if any(due <= now for due, _ in running):
        due = min(due for due, _ in running)
        return "breached", f"breached {timesince(due, now, depth=1)} ago"
    if running:
        due = min(due for due, _ in running)
        left = timesince(now, due, depth=1)
        if any(warn is not None and warn <= now for _, warn in running):
            return "at-risk", f"at risk: {left} left"
        if ticket.paused_at is not None:
            return "paused", f"paused; {left} left on response"
        return "on-track", f"{left} left"
    if ticket.paused_at is not None:
        return "paused", "paused"
    return "none", "—"


class SlaFilter(admin.SimpleListFilter):
    """Breached, at risk, due within the hour: read from the indexed deadline columns."""

    title = "service level"
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [
            ("breached", "Breached"),
            ("at_risk", "At risk"),
            ("next_hour", "Due in the next hour"),
            ("paused", "Paused"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        running = queryset.exclude(status__in=[Status.RESOLVED, Status.CLOSED])
        if self.value() == "breached":
            return running.filter(
                Q(response_due_at__lte=now) | Q(resolution_due_at__lte=now, paused_at__isnull=True)
            )
        if self.value() == "at_risk":
            return running.filter(
                Q(response_warn_at__lte=now, response_due_at__gt=now)
                | Q(resolution_warn_at__lte=now, resolution_due_at__gt=now, paused_at__isnull=True)
            )
        if self.value() == "next_hour":
            return running.filter(next_due_at__gt=now, next_due_at__lte=now + timedelta(hours=1))
        if self.value() == "paused":
            return running.filter(paused_at__isnull=False)
        return queryset


class TicketAdminForm(forms.ModelForm):
    """Status, priority and assignee, plus the things staff do that are not fields of a ticket."""

    public_reply = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="Sent to the customer by email and shown on their ticket page.",
    )
    internal_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Seen by staff only; the customer is never told.",
    )
    escalate = forms.BooleanField(required=False, label="Escalate to the next tier")
    escalate_reason = forms.CharField(
        required=False,
        max_length=250,
        label="Reason for escalating",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = Ticket
        fields = ["status", "priority", "assignee"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ticket = self.instance
        if "priority" in self.fields:
            # The service's current priorities; a retired one stays listed while the ticket
            # still has it, so saving other changes does not fail on it.
            self.fields["priority"].queryset = Priority.objects.filter(
                Q(retired_at__isnull=True) | Q(pk=ticket.priority_id), service=ticket.service_id
            ).order_by("position")
        if "assignee" in self.fields:
            # Staff who can see the ticket: members of its tier or above, and superusers.
            groups = [tier_group_name(level) for level in TIER_LEVELS if level >= ticket.tier]
            eligible = _staff_users().filter(
                Q(is_superuser=True)
                | Q(pk__in=get_user_model().objects.filter(groups__name__in=groups).values("pk"))
            )
            self.fields["assignee"].queryset = (
                get_user_model()
                .objects.filter(Q(pk__in=eligible.values("pk")) | Q(pk=ticket.assignee_id))
                .order_by("username")
            )

    def clean(self):
        data = super().clean()
        if data.get("escalate"):
            if self.instance.tier >= TOP_TIER:
                self.add_error("escalate", "This ticket is already at the top tier.")
            if data.get("status") in (Status.RESOLVED, Status.CLOSED):
                self.add_error("escalate", "A resolved or closed ticket cannot be escalated.")
            if not (data.get("escalate_reason") or "").strip():
                self.add_error("escalate_reason", "Say why: the next tier reads this first.")
        return data


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
        number = _NUMBER.fullmatch(term)
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
            self.message_user(request, f"Nothing was saved: {_error_text(exc)}", messages.ERROR)

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
                    request, f"{ticket.number} not {done}: {_error_text(exc)}", messages.ERROR
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


class _TicketRowsAdmin(admin.ModelAdmin):
    """A read-only view of rows the services write about tickets, scoped like the tickets.

    Nobody edits them by hand, and a staff member sees only the rows of tickets their tier may
    see.
    """

    show_full_result_count = False
    ordering = ["-id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(ticket__in=tickets_for_staff(user=request.user))
            .select_related(*self.list_select_related)
        )

    @admin.display(description="ticket", ordering="ticket_id")
    def ticket_number(self, obj):
        return obj.ticket.number

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(_TicketRowsAdmin):
    """Every message across the tickets a staff member may see, to search the conversations."""

    list_display = ["ticket_number", "author", "internal", "created_at", "excerpt"]
    list_filter = ["internal"]
    list_select_related = ["ticket", "author"]
    search_fields = ["body", "author__email"]
    fields = ["ticket", "author", "internal", "created_at", "body"]

    @admin.display(description="message")
    def excerpt(self, obj):
        return Truncator(obj.body).chars(80)


@admin.register(TicketEvent)
class TicketEventAdmin(_TicketRowsAdmin):
    """The audit trail across tickets: who changed what, and when."""

    list_display = ["created_at", "ticket_number", "kind", "summary", "actor"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["summary"]
    fields = ["ticket", "kind", "summary", "actor", "created_at", "data"]
