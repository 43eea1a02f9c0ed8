"""Staff edit services and their SLA side here; rules are the plan loader's (model ``clean()``)."""

import io
import zipfile
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.selectors import COMMON_TIMEZONES, selectable_timezones

from .admin_scoping import ServiceScopedAdminMixin
from .models import (
    Calendar,
    EscalationPolicy,
    Holiday,
    IncidentPolicy,
    ManagementContact,
    OnCallMember,
    OnCallOverride,
    Priority,
    Service,
    ServiceCustomer,
    ServiceTargets,
    StaffService,
    SupportContract,
    Tier,
)
from .on_call import rotation_start
from .plan import rules
from .plan.export import service_export_yaml
from .selectors import Rosters

# --- widgets: what a plan file says, edited as choices rather than raw values -------------------


def zone_choices(current=""):
    """Common zones, then every Area/City zone (accounts' list: no aliases such as "Factory"
    or "localtime"); a stored name outside it stays offered so saving does not drop it."""
    zones = selectable_timezones()
    common = [zone for zone in COMMON_TIMEZONES if zone in zones]
    choices = [
        ("Common", [(zone, zone.replace("_", " ")) for zone in common]),
        ("All zones", [(zone, zone.replace("_", " ")) for zone in zones if zone not in common]),
    ]
    if current and current not in zones:
        choices.insert(0, (current, f"{current} (chosen earlier)"))
    return choices


class ZoneSelectMixin:
    """A form whose ``timezone`` field is a select of zones, not free text."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "timezone" in self.fields:
            current = self.instance.timezone if self.instance.pk else ""
            self.fields["timezone"] = forms.ChoiceField(
                label="Time zone",
                choices=zone_choices(current),
                initial=current or "UTC",
                help_text=self.fields["timezone"].help_text,
            )


class PercentInput(forms.NumberInput):
    """A number input followed by its unit: "75 %"."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html("{} %", super().render(name, value, attrs, renderer))


# Ticket statuses a timer may pause in (rules.PAUSABLE_STATUSES) in words; sla does not import
# tickets, which owns the statuses.
PAUSE_STATUS_LABELS = {
    "new": "New",
    "open": "Open",
    "waiting_on_customer": "Waiting on customer",
}


class EscalationPolicyForm(forms.ModelForm):
    """Pause statuses as checkboxes, the warning threshold in percent."""

    pause_statuses = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            (status, PAUSE_STATUS_LABELS.get(status, status)) for status in rules.PAUSABLE_STATUSES
        ],
        help_text="The resolution timer stops while the ticket is in one of these statuses.",
    )

    class Meta:
        model = EscalationPolicy
        # The admin passes every field it shows; these are the ones this form changes.
        fields = ["warn_at", "pause_statuses"]
        widgets = {"warn_at": PercentInput(attrs={"min": 1, "max": 99, "step": "any"})}
        labels = {"warn_at": "At risk after"}
        help_texts = {"warn_at": "Percent of a timer after which the ticket is at risk."}


class ServiceForm(ZoneSelectMixin, forms.ModelForm):
    class Meta:
        model = Service
        fields = ["timezone"]


class ServiceCustomerInline(admin.TabularInline):
    """Which customers may file tickets for the service (and hear of its maintenance)."""

    model = ServiceCustomer
    extra = 0
    autocomplete_fields = ["customer"]
    readonly_fields = ["created_at"]


class EscalationPolicyInline(admin.StackedInline):
    model = EscalationPolicy
    form = EscalationPolicyForm
    can_delete = False
    max_num = 1
    extra = 0


class OnCallMemberInline(admin.TabularInline):
    """The weekly rotation of each on-call tier, in order: week w's layer i is member w+i."""

    model = OnCallMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["tier_level", "position", "user"]


class OnCallOverrideInline(admin.TabularInline):
    """Holidays and swaps: someone else holds a layer for a while."""

    model = OnCallOverride
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["tier_level", "layer", "user", "starts_at", "ends_at", "reason"]


class ManagementContactInline(admin.TabularInline):
    """Who holds each role of the management chain (a user, or an address)."""

    model = ManagementContact
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["role", "user", "email"]


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
class ServiceAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    service_field = "pk"
    form = ServiceForm
    list_display = ["name", "slug", "timezone", "contact", "updated_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at", "updated_at", "on_call_now"]
    inlines = [
        EscalationPolicyInline,
        OnCallMemberInline,
        OnCallOverrideInline,
        ManagementContactInline,
        ServiceCustomerInline,
    ]
    actions = [export_plan]

    @admin.display(description="on call now")
    def on_call_now(self, obj):
        """Each on-call tier's current holders of each layer, and when the rotation hands off."""
        if obj is None or obj.pk is None:
            return "—"
        now = timezone.now()
        rosters = Rosters([obj.pk], at=now)
        policy = rosters.policy(obj.pk)
        handoff = (policy.on_call_handoff if policy else "") or "mon 09:00"
        _, began = rotation_start(handoff, obj.timezone, now)
        rows = []
        for (service_id, level), tier in sorted(rosters.tiers.items()):
            if not tier.on_call:
                continue
            people = rosters.on_call(service_id, level)
            holders = ", ".join(f"{layer}: {user.get_username()}" for layer, user in people.items())
            rows.append((level, holders or "nobody in the rotation yet"))
        if not rows:
            return "No tier of this service is on call."
        return format_html(
            "{}<br>Rotation began {} ({}); next handoff {}.",
            format_html_join(mark_safe("<br>"), "Tier {}: {}", rows),  # noqa: S308
            began.astimezone(timezone.get_current_timezone()).strftime("%a %d %b %H:%M"),
            handoff,
            (began + timedelta(days=7)).strftime("%a %d %b %H:%M UTC"),
        )


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


def hours_to_text(week):
    """Canonical week → the plan's lines: ``mon-fri: 09:00-18:00``."""
    lines = []
    for key, value in rules.week_to_spec(week or {}).items():
        lines.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
    return "\n".join(lines)


class CalendarForm(ZoneSelectMixin, forms.ModelForm):
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
class CalendarAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    form = CalendarForm
    list_display = ["name", "service", "timezone", "updated_at"]
    list_filter = ["service"]
    list_select_related = ["service"]
    search_fields = ["name", "service__name"]
    inlines = [HolidayInline]


@admin.register(Priority)
class PriorityAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
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
class TierAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = ["level", "name", "service", "calendar", "pickup", "on_call"]
    list_filter = ["service", "on_call"]
    list_select_related = ["service", "calendar__service"]
    search_fields = ["name", "service__name"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    form = EscalationPolicyForm
    list_display = ["service", "warn_at_display", "management_chain", "management_interval"]
    list_select_related = ["service"]

    @admin.display(description="at risk after", ordering="warn_at")
    def warn_at_display(self, obj):
        return "—" if obj.warn_at is None else f"{obj.warn_at.normalize():f} %"


@admin.register(IncidentPolicy)
class IncidentPolicyAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = ["service", "postmortem_due", "steps"]
    list_select_related = ["service"]


@admin.register(SupportContract)
class SupportContractAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "service", "hours_per_month", "monthly_cost", "currency"]
    list_filter = ["service"]
    list_select_related = ["service"]


@admin.register(ServiceTargets)
class ServiceTargetsAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = ["service", "uptime", "mttr", "mtbf", "resolution_rate", "csat", "rto", "rpo"]
    list_select_related = ["service"]


class StaffServiceInline(admin.TabularInline):
    """The services a staff member works; none means every service."""

    model = StaffService
    extra = 0
    fields = ["service"]
    verbose_name = "service worked"
    verbose_name_plural = (
        "services worked (staff only: none means every service; with any, the member sees "
        "those services' tickets, incidents, reports and emails only)"
    )


# The user page (django.contrib.auth's) gains the services a staff member works, next to their
# tier groups.
admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class StaffUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, StaffServiceInline]
