"""Every time entry a staff member may see (those of tickets their tier may see): filters by
organisation, staff and support month; an entry's page voids it."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from contracts import services
from contracts.models import TimeEntry
from contracts.selectors import format_hours
from core.admin import ChoiceListFilter, ServiceWritesAdmin
from core.periods import add_months, month_bounds, month_of, parse_month
from sla.models import Service
from tickets.selectors import tickets_for_staff


class StaffFilter(ChoiceListFilter):
    """Mine, or a staff member's (never a list of every customer account)."""

    title = "staff"
    parameter_name = "staff"

    def lookups(self, request, model_admin):
        staff = (
            get_user_model()
            .objects.filter(is_active=True, is_staff=True)
            .exclude(pk=request.user.pk)
            .order_by("username")
        )
        return [("me", "Mine")] + [(str(user.pk), user.get_username()) for user in staff]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(staff=request.user)
        if value and value.isdigit():
            return queryset.filter(staff_id=int(value))
        return queryset


class MonthFilter(admin.SimpleListFilter):
    """A support month, on each entry's service's clock (the month its time counts in)."""

    title = "month"
    parameter_name = "month"

    def lookups(self, request, model_admin):
        current = month_of(timezone.now(), settings.TIME_ZONE)
        months = [add_months(current, -offset) for offset in range(13)]
        return [(f"{month:%Y-%m}", f"{month:%B %Y}") for month in months]

    def queryset(self, request, queryset):
        try:
            month = parse_month(self.value())
        except ValueError:
            return queryset  # not one of the filter's own links: no month chosen
        # One range per time zone in use (a handful), so the filter stays an index range scan.
        zones = Service.objects.order_by().values_list("timezone", flat=True).distinct()
        condition = Q(pk__in=[])
        for tz in zones:
            start, end = month_bounds(month, tz)
            condition |= Q(ticket__service__timezone=tz, worked_at__gte=start, worked_at__lt=end)
        return queryset.filter(condition)


class VoidedFilter(ChoiceListFilter):
    title = "state"
    parameter_name = "voided"

    def lookups(self, request, model_admin):
        return [("no", "Counted"), ("yes", "Voided")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(voided_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(voided_at__isnull=False)
        return queryset


class TimeEntryVoidForm(forms.ModelForm):
    void_reason = forms.CharField(
        max_length=services.NOTE_MAX_LENGTH,
        label="Void this entry: reason",
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="The entry stays on record, out of every sum. Log the right time again on "
        "the ticket.",
    )

    class Meta:
        model = TimeEntry
        fields = ["void_reason"]


@admin.register(TimeEntry)
class TimeEntryAdmin(ServiceWritesAdmin):
    form = TimeEntryVoidForm
    list_display = [
        "worked_at",
        "ticket_link",
        "organization",
        "staff",
        "minutes",
        "hours",
        "note_excerpt",
        "counted",
    ]
    list_display_links = ["worked_at"]
    list_filter = ["organization", StaffFilter, MonthFilter, VoidedFilter]
    list_select_related = ["ticket", "organization", "staff"]
    search_fields = ["note"]
    ordering = ["-worked_at", "-id"]
    show_full_result_count = False
    readonly_fields = [
        "ticket_link",
        "organization",
        "staff",
        "minutes",
        "worked_at",
        "note",
        "created_at",
        "voided_at",
        "voided_by",
    ]
    fieldsets = [
        (None, {"fields": ["ticket_link", "organization", "staff", "minutes", "worked_at"]}),
        (None, {"fields": ["note", "created_at"]}),
        ("Correction", {"fields": ["void_reason", "voided_at", "voided_by"]}),
    ]

    def get_queryset(self, request):
        tickets = tickets_for_staff(user=request.user).values("pk")
        return super().get_queryset(request).filter(ticket__in=tickets)

    def has_add_permission(self, request):
        return False  # time is logged on the ticket's page

    def has_change_permission(self, request, obj=None):
        # Changing an entry means voiding it; a voided entry is history.
        if obj is not None and obj.voided:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="ticket", ordering="ticket_id")
    def ticket_link(self, obj):
        url = reverse("admin:tickets_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">{}</a> {}', url, obj.ticket.number, obj.ticket.subject)

    @admin.display(description="hours")
    def hours(self, obj):
        return format_hours(obj.minutes)

    @admin.display(description="note")
    def note_excerpt(self, obj):
        return Truncator(obj.note).chars(60)

    @admin.display(description="counted", boolean=True)
    def counted(self, obj):
        return not obj.voided

    refused_text = "Not voided"

    def write(self, request, obj, form, change):
        services.time_entry_void(
            entry=obj, by=request.user, reason=form.cleaned_data["void_reason"]
        )

    def log_change(self, request, obj, message):
        return super().log_change(request, obj, "Voided")
