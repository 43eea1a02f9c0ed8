"""The ticket changelist's filters: priority code, tier (scoped), assignee, SLA state."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.roles import TIER_LEVELS, staff_tier_level
from portal.admin_filters import ChoiceListFilter
from sla.models import Priority

from ..models import Ticket
from .common import staff_users

Status = Ticket.Status


class PriorityCodeFilter(ChoiceListFilter):
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


class TierFilter(ChoiceListFilter):
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


class AssigneeFilter(ChoiceListFilter):
    """Mine, unassigned, or a staff member's (never a list of every customer account)."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        staff = staff_users().exclude(pk=request.user.pk).order_by("username")
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


class SlaFilter(ChoiceListFilter):
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
