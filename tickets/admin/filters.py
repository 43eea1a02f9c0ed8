"""The ticket changelist's filters: saved views, service, priority per service, tier (scoped),
assignee, SLA state. Each accepts only values it offered itself (``ChoiceListFilter``): a
hand-edited or hostile query string shows the unfiltered list, never a 500."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.roles import TIER_LEVELS, staff_tier_level
from core.admin import ChoiceListFilter
from sla.models import Priority, Service
from sla.selectors import limit_to_staff_services

from ..models import Ticket
from ..templatetags.staff_time import human_duration
from .common import staff_users

Status = Ticket.Status
ACTIVE = ~Q(status__in=[Status.RESOLVED, Status.CLOSED])


def breached_q(now):
    """A running deadline has passed (response, or resolution unless paused)."""
    return Q(response_due_at__lte=now) | Q(resolution_due_at__lte=now, paused_at__isnull=True)


class QueueViewFilter(ChoiceListFilter):
    """The saved views staff work from, one click each (also linked above the list)."""

    title = "view"
    parameter_name = "view"
    VIEWS = [
        ("mine", "My open tickets"),
        ("unassigned", "Unassigned in my tier"),
        ("due_1h", "Breaching within 1 h"),
        ("breached", "Breached"),
        ("waiting", "Waiting on customer"),
    ]

    def lookups(self, request, model_admin):
        return self.VIEWS

    def queryset(self, request, queryset):
        value, now, user = self.value(), timezone.now(), request.user
        if value == "mine":
            return queryset.filter(ACTIVE, assignee=user)
        if value == "unassigned":
            unassigned = queryset.filter(ACTIVE, assignee__isnull=True)
            # A superuser's "tier" is every tier; a member's is the highest they work.
            if user.is_superuser:
                return unassigned
            return unassigned.filter(tier=staff_tier_level(user) or 0)
        if value == "due_1h":
            return queryset.filter(
                ACTIVE, next_due_at__gt=now, next_due_at__lte=now + timedelta(hours=1)
            )
        if value == "breached":
            return queryset.filter(ACTIVE).filter(breached_q(now))
        if value == "waiting":
            return queryset.filter(status=Status.WAITING_ON_CUSTOMER)
        return queryset


class ServiceFilter(ChoiceListFilter):
    """The services the member works (all for the unlimited), by name."""

    title = "service"
    # The parameter Django's own field filter used: bookmarked lists keep working.
    parameter_name = "service__id__exact"

    def lookups(self, request, model_admin):
        services = limit_to_staff_services(Service.objects.all(), user=request.user, field="pk")
        return [(str(pk), name) for pk, name in services.order_by("name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(service_id=int(self.value()))
        return queryset


class PriorityFilter(ChoiceListFilter):
    """Priorities grouped by service ("Hosting — P1"): one service's P1 is not another's.

    A bare code (``?priority=P1``, the old per-code links) still filters by code alone.
    """

    title = "priority"
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        priorities = limit_to_staff_services(Priority.objects.all(), user=request.user)
        rows = priorities.order_by("service__name", "position", "code").values_list(
            "service__slug", "service__name", "code"
        )
        # A retired priority may share its code with a current one: one entry for both.
        rows = list(dict.fromkeys(rows))
        self.codes = {code for _, _, code in rows}
        return [(f"{slug}:{code}", f"{name} — {code}") for slug, name, code in rows]

    def value(self):
        value = super(ChoiceListFilter, self).value()
        if value in getattr(self, "codes", ()):
            return value
        return super().value()

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        slug, sep, code = value.rpartition(":")
        if sep:
            return queryset.filter(service__slug=slug, priority__code=code)
        return queryset.filter(priority__code=code)


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
        return "breached", f"breached {human_duration(now - due)} ago"
    if running:
        due = min(due for due, _ in running)
        left = human_duration(due - now)
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
            return running.filter(breached_q(now))
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
