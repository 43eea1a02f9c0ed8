"""The changelists' filters: incidents by severity, step and state; post-mortems by state."""

from django.db.models import Q

from core.admin import ChoiceListFilter
from sla.models import IncidentPolicy, Priority

from ..models import DEFAULT_STEPS


class SeverityFilter(ChoiceListFilter):
    """Severities by code ("P1") across every service, not one entry per service."""

    title = "severity"
    parameter_name = "severity"

    def lookups(self, request, model_admin):
        codes = Priority.objects.order_by("code").values_list("code", flat=True).distinct()
        return [(code, code) for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(severity__code=self.value())
        return queryset


class StepFilter(ChoiceListFilter):
    """The steps of every plan's process (read from the small policy table, not incidents)."""

    title = "step"
    parameter_name = "step"

    def lookups(self, request, model_admin):
        names = list(DEFAULT_STEPS)
        for steps in IncidentPolicy.objects.values_list("steps", flat=True):
            names += [name for name in steps or () if name not in names]
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(step=self.value())
        return queryset


class IncidentStateFilter(ChoiceListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("open", "Open"),
            ("resolved", "Resolved"),
            ("postmortem_due", "Post-mortem to write"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        if self.value() == "postmortem_due":
            return queryset.filter(resolved_at__isnull=False).filter(
                Q(postmortem__isnull=True) | Q(postmortem__completed_at__isnull=True)
            )
        return queryset


class PostmortemStateFilter(ChoiceListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("draft", "Draft"), ("completed", "Completed"), ("published", "Published")]

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(completed_at__isnull=True)
        if self.value() == "completed":
            return queryset.filter(completed_at__isnull=False, published_at__isnull=True)
        if self.value() == "published":
            return queryset.filter(published_at__isnull=False)
        return queryset


class PublishedFilter(ChoiceListFilter):
    """Drafts (nothing public yet) apart from published incidents."""

    title = "public"
    parameter_name = "public"

    def lookups(self, request, model_admin):
        return [("draft", "draft (not public)"), ("published", "published")]

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(published_at__isnull=True)
        if self.value() == "published":
            return queryset.filter(published_at__isnull=False)
        return queryset
