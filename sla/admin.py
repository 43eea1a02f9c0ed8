"""Staff edit services and their SLA side here; rules are the plan loader's (model ``clean()``)."""

import io
import zipfile

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from .models import (
    Calendar,
    EscalationPolicy,
    Holiday,
    IncidentPolicy,
    Priority,
    Service,
    ServiceCustomer,
    ServiceTargets,
    SupportContract,
    Tier,
)
from .plan import rules
from .plan.export import service_export_yaml


class ServiceCustomerInline(admin.TabularInline):
    """Which customers may file tickets for the service (and hear of its maintenance)."""

    model = ServiceCustomer
    extra = 0
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_at"]


class EscalationPolicyInline(admin.StackedInline):
    model = EscalationPolicy
    can_delete = False
    max_num = 1
    extra = 0


@admin.action(description="Export plan (YAML; a zip for several services)")
def export_plan(modeladmin, request, queryset):
    services = list(queryset.order_by("slug"))
    if len(services) == 1:
        service = services[0]
        response = HttpResponse(
            service_export_yaml(service=service), content_type="application/yaml; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{service.slug}.yaml"'
        return response
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for service in services:
            archive.writestr(f"{service.slug}.yaml", service_export_yaml(service=service))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="plans.zip"'
    return response


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "contact", "updated_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [EscalationPolicyInline, ServiceCustomerInline]
    actions = [export_plan]


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


def hours_to_text(week):
    """Canonical week → the plan's lines: ``mon-fri: 09:00-18:00``."""
    lines = []
    for key, value in rules.week_to_spec(week or {}).items():
        lines.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    return "\n".join(lines)


class CalendarForm(forms.ModelForm):
    hours = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 7, "cols": 50}),
        help_text="One line per weekday or range, as in a plan file: "
        "<code>mon-fri: 09:00-12:00, 13:00-18:00</code>. A day not named is closed.",
    )

    class Meta:
        model = Calendar
        fields = ["service", "name", "timezone", "hours"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["hours"] = hours_to_text(self.instance.hours)

    def clean_hours(self):
        spec = {}
        for number, line in enumerate(self.cleaned_data["hours"].splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise ValidationError(f"line {number}: write a weekday, a colon and the hours")
            intervals = [part.strip() for part in value.split(",") if part.strip()]
            spec[key.strip()] = intervals if len(intervals) != 1 else intervals[0]
        week, errors = rules.parse_hours(spec)
        if errors:
            raise ValidationError([message for _key, message in errors])
        return week


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    form = CalendarForm
    list_display = ["name", "service", "timezone", "updated_at"]
    list_filter = ["service"]
    list_select_related = ["service"]
    search_fields = ["name", "service__name"]
    inlines = [HolidayInline]


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "service",
        "response",
        "resolution",
        "calendar",
        "start_tier",
        "notify_management",
        "retired_at",
    ]
    list_filter = ["service", ("retired_at", admin.EmptyFieldListFilter)]
    list_select_related = ["service", "calendar__service"]
    search_fields = ["code", "name", "service__name"]
    ordering = ["service", "position"]


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["level", "name", "service", "calendar", "pickup", "on_call"]
    list_filter = ["service", "on_call"]
    list_select_related = ["service", "calendar__service"]
    search_fields = ["name", "service__name"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["service", "warn_at", "management_chain", "management_interval"]
    list_select_related = ["service"]


@admin.register(IncidentPolicy)
class IncidentPolicyAdmin(admin.ModelAdmin):
    list_display = ["service", "postmortem_due", "steps"]
    list_select_related = ["service"]


@admin.register(SupportContract)
class SupportContractAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "hours_per_month", "monthly_cost", "currency"]
    list_filter = ["service"]
    list_select_related = ["service"]


@admin.register(ServiceTargets)
class ServiceTargetsAdmin(admin.ModelAdmin):
    list_display = ["service", "uptime", "mttr", "mtbf", "resolution_rate", "csat", "rto", "rpo"]
    list_select_related = ["service"]
