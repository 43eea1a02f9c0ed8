"""The checklist's list filters: owner tier, state (overdue, open, done), drill results."""

from django.utils import timezone

from core.admin import ChoiceListFilter
from tickets.admin import TierFilter


class OwnerTierFilter(TierFilter):
    """The tickets' tier filter (fixed tiers, only those the member sees) on the owner tier."""

    title = "owner tier"


class OverdueFilter(ChoiceListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("overdue", "Overdue"),
            ("open", "Open (not due yet)"),
            ("todo", "Not done"),
            ("done", "Done"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == "overdue":
            return queryset.filter(done_at__isnull=True, due_at__lte=now)
        if value == "open":
            return queryset.filter(done_at__isnull=True, due_at__gt=now)
        if value == "todo":
            return queryset.filter(done_at__isnull=True)
        if value == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


class ResultsFilter(ChoiceListFilter):
    title = "DR drills and restore tests"
    parameter_name = "drill"

    def lookups(self, request, model_admin):
        return [
            ("all", "All drills"),
            ("missed", "A target missed"),
            ("met", "All targets met"),
            ("none", "No results yet"),
        ]

    def queryset(self, request, queryset):
        drills = queryset.filter(recovery_test=True)
        value = self.value()
        if value == "all":
            return drills
        if value == "missed":
            return drills.filter(rto_met=False) | drills.filter(rpo_met=False)
        if value == "met":
            return (
                drills.filter(results_recorded_at__isnull=False)
                .exclude(rto_met=False)
                .exclude(rpo_met=False)
            )
        if value == "none":
            return drills.filter(results_recorded_at__isnull=True)
        return queryset
