"""Staff edit maintenance policy and windows; rules are the plan loader's.

A window's page lists its next occurrences with what was sent about each, and links to cancel
or move one occurrence (an intermediate form that calls the services). Notice rounds show how
many emails were recorded, sent and failed, and "resend failed" puts failed ones back in the
outbox.
"""

from datetime import UTC, datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.zones import to_utc, zone
from notifications.models import Notification
from notifications.services import notifications_retry_failed
from sla.admin_scoping import ServiceScopedAdminMixin

from . import services
from .models import (
    MaintenancePolicy,
    MaintenanceWindow,
    NoticeDelivery,
    NoticeRound,
    OccurrenceException,
    Subscription,
)
from .occurrences import apply_exceptions
from .selectors import occurrence_get

NEXT_SHOWN = 8
STAMP = "%Y%m%dT%H%M%SZ"


def _stamp(moment):
    return moment.astimezone(UTC).strftime(STAMP)


def _parse_stamp(text):
    try:
        return datetime.strptime(text, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _next_occurrences(window, now, count=NEXT_SHOWN):
    exceptions = {exc.original_start: exc for exc in window.exceptions.all()}
    found, span = [], timedelta(days=62)
    while len(found) < count and span <= timedelta(days=800):
        slots = window.slots(now, now + span)
        found = [
            o
            for o in apply_exceptions(window, slots, exceptions, now, now + span)
            if o.ends_at > now
        ]
        span *= 3
    return sorted(found, key=lambda o: o.starts_at)[:count]


@admin.register(MaintenancePolicy)
class MaintenancePolicyAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = ["service", "notices", "channels", "quarterly_digest", "allowed"]
    list_select_related = ["service"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "service",
        "category",
        "schedule",
        "start",
        "duration",
        "timezone",
        "next_occurrence",
        "is_active",
    ]
    list_filter = ["is_active", "service", "category"]
    list_select_related = ["service"]
    search_fields = ["name", "service__name"]
    readonly_fields = ["created_at", "updated_at", "upcoming_occurrences"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("exceptions")

    @admin.display(description="Next occurrence")
    def next_occurrence(self, window):
        if not window.is_active:
            return "—"
        upcoming = [o for o in _next_occurrences(window, timezone.now(), 3) if not o.cancelled]
        if not upcoming:
            return "—"
        local = upcoming[0].starts_at.astimezone(zone(window.timezone))
        return f"{local:%a %Y-%m-%d %H:%M} {window.timezone}"

    @admin.display(description="Next occurrences")
    def upcoming_occurrences(self, window):
        if window.pk is None:
            return "—"
        now = timezone.now()
        occurrences = _next_occurrences(window, now)
        rounds = {}
        for rnd in NoticeRound.objects.filter(
            window=window, occurrence_start__in=[o.original_start for o in occurrences]
        ).order_by("created_at"):
            rounds.setdefault(rnd.occurrence_start, []).append(rnd)
        tz = zone(window.timezone)
        rows = []
        for o in occurrences:
            args = [window.pk, _stamp(o.original_start)]
            state = "cancelled" if o.cancelled else ("moved" if o.moved else "")
            sent = ", ".join(
                f"{r.get_kind_display()} {r.lead}: {r.get_status_display()} ({r.recorded})"
                for r in rounds.get(o.original_start, [])
            )
            actions = []
            if not o.cancelled:
                actions.append(
                    (reverse("admin:maintenance_occurrence_cancel", args=args), "Cancel")
                )
                actions.append((reverse("admin:maintenance_occurrence_move", args=args), "Move"))
            rows.append(
                (
                    f"{o.starts_at.astimezone(tz):%a %Y-%m-%d %H:%M}–"
                    f"{o.ends_at.astimezone(tz):%H:%M} {window.timezone}",
                    state,
                    sent or "no notice yet",
                    format_html_join(" · ", '<a href="{}">{}</a>', actions),
                )
            )
        return format_html(
            "<table><tr><th>When</th><th>State</th><th>Notices</th><th></th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:window_id>/occurrence/<str:stamp>/cancel/",
                view(self.occurrence_cancel_view),
                name="maintenance_occurrence_cancel",
            ),
            path(
                "<int:window_id>/occurrence/<str:stamp>/move/",
                view(self.occurrence_move_view),
                name="maintenance_occurrence_move",
            ),
            *super().get_urls(),
        ]

    def _occurrence(self, request, window_id, stamp):
        # Through get_queryset: a member limited to other services gets 404 here too.
        window = get_object_or_404(
            self.get_queryset(request).select_related("service"), pk=window_id
        )
        if not self.has_change_permission(request, window):
            raise PermissionDenied
        original_start = _parse_stamp(stamp)
        occurrence = original_start and occurrence_get(window=window, original_start=original_start)
        if not occurrence:
            raise Http404("no such occurrence")
        return window, occurrence

    def occurrence_cancel_view(self, request, window_id, stamp):
        window, occurrence = self._occurrence(request, window_id, stamp)
        form = CancelForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            services.occurrence_cancel(
                window=window,
                starts_at=occurrence.original_start,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, "The occurrence is cancelled; notified subscribers are told.")
            return redirect(reverse("admin:maintenance_maintenancewindow_change", args=[window.pk]))
        return self._render(request, window, occurrence, form, "Cancel occurrence")

    def occurrence_move_view(self, request, window_id, stamp):
        window, occurrence = self._occurrence(request, window_id, stamp)
        tz = zone(window.timezone)
        local = occurrence.starts_at.astimezone(tz)
        minutes = int((occurrence.ends_at - occurrence.starts_at).total_seconds() // 60)
        form = MoveForm(
            request.POST if request.method == "POST" else None,
            initial={"date": local.date(), "start": local.time(), "minutes": minutes},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            new_start = to_utc(datetime.combine(data["date"], data["start"]), tz)
            try:
                services.occurrence_move(
                    window=window,
                    starts_at=occurrence.original_start,
                    new_start=new_start,
                    new_end=new_start + timedelta(minutes=data["minutes"]),
                    by=request.user,
                    reason=data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, "The occurrence is moved; notified subscribers are told.")
                return redirect(
                    reverse("admin:maintenance_maintenancewindow_change", args=[window.pk])
                )
        return self._render(request, window, occurrence, form, "Move occurrence")

    def _render(self, request, window, occurrence, form, title):
        tz = zone(window.timezone)
        return render(
            request,
            "maintenance/admin_occurrence_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "window": window,
                "when": f"{occurrence.starts_at.astimezone(tz):%a %Y-%m-%d %H:%M}–"
                f"{occurrence.ends_at.astimezone(tz):%H:%M} {window.timezone}",
                "form": form,
                "opts": self.model._meta,
            },
        )


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class MoveForm(forms.Form):
    date = forms.DateField(help_text="Local date, in the window's time zone.")
    start = forms.TimeField(help_text="Local start time.")
    minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, label="Duration (minutes)")
    reason = forms.CharField(max_length=500, required=False)


@admin.register(OccurrenceException)
class OccurrenceExceptionAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    service_field = "window__service"
    list_display = ["window", "original_start", "cancelled", "new_start", "new_end", "by", "at"]
    list_select_related = ["window__service", "by"]
    list_filter = ["cancelled", "window__service"]
    readonly_fields = [f.name for f in OccurrenceException._meta.fields]

    def has_add_permission(self, request):
        return False  # through a window's occurrence: cancel or move


def _outbox_count(status):
    keys = NoticeDelivery.objects.filter(round=OuterRef(OuterRef("pk"))).values("notification_key")
    counted = (
        Notification.objects.filter(key__in=keys, status=status)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(NoticeRound)
class NoticeRoundAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "key",
        "service",
        "kind",
        "lead",
        "status",
        "starts_at",
        "recorded",
        "sent_count",
        "failed_count",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "service"]
    list_select_related = ["service"]
    search_fields = ["key"]
    readonly_fields = [f.name for f in NoticeRound._meta.fields]
    actions = ["resend_failed"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                sent_n=_outbox_count(Notification.Status.SENT),
                failed_n=_outbox_count(Notification.Status.FAILED),
            )
        )

    @admin.display(description="Sent", ordering="sent_n")
    def sent_count(self, rnd):
        return rnd.sent_n

    @admin.display(description="Failed", ordering="failed_n")
    def failed_count(self, rnd):
        return rnd.failed_n

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend failed notices of the selected rounds")
    def resend_failed(self, request, queryset):
        keys = NoticeDelivery.objects.filter(round__in=queryset.values("pk")).values(
            "notification_key"
        )
        count = notifications_retry_failed(notifications=Notification.objects.filter(key__in=keys))
        self.message_user(request, f"{count} failed notices queued for delivery.", messages.SUCCESS)


@admin.register(Subscription)
class SubscriptionAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    # The token is never shown, listed or searchable: it is the credential of the subscriber's
    # confirm and unsubscribe links, and whoever held it could act for them.
    list_display = ["service", "user", "email", "confirmed_at", "unsubscribed_at"]
    list_select_related = ["service", "user"]
    list_filter = ["service", ("unsubscribed_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        was_on = form.initial.get("unsubscribed_at") is None
        if change and was_on and obj.unsubscribed_at is not None:
            # Turned off by hand: the confirm links sent before stop working, as after an
            # unsubscribe by link.
            obj.confirm_version += 1
        super().save_model(request, obj, form, change)
