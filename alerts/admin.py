"""Alert hooks (from the plan, read-only), alert groups and alerts, for superusers.

The groups list is where staff see which incidents' alerts have all resolved
(``all resolved`` column and filter) before resolving them by hand. Nothing here shows a
secret: a hook shows the name of its environment variable and whether it is set.
"""

import os

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import SuperuserRecordsAdmin

from .models import Alert, AlertGroup, AlertHook, SnsSubscription


def _incident_link(incident):
    if incident is None:
        return "—"
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    state = "resolved" if incident.resolved_at else "open"
    return format_html('<a href="{}">{}</a> ({})', url, incident.number, state)


@admin.register(AlertHook)
class AlertHookAdmin(SuperuserRecordsAdmin):
    list_display = ["__str__", "source", "secret_env", "configured", "severity", "auto_resolve"]
    list_select_related = ["service", "severity"]
    list_filter = ["source", "service"]
    fields = [
        "service",
        "name",
        "hook_url",
        "source",
        "secret_env",
        "configured",
        "severity",
        "severity_map",
        "auto_resolve",
        "retired_at",
    ]
    readonly_fields = fields

    @admin.display(boolean=True, description="configured")
    def configured(self, obj):
        return bool(os.environ.get(obj.secret_env))

    @admin.display(description="hook URL")
    def hook_url(self, obj):
        return obj.get_absolute_url()


class AllResolvedFilter(admin.SimpleListFilter):
    title = "every alert resolved"
    parameter_name = "all_resolved"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No, some still firing")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(all_resolved_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(all_resolved_at__isnull=True)
        return queryset


@admin.register(AlertGroup)
class AlertGroupAdmin(SuperuserRecordsAdmin):
    list_display = [
        "title",
        "hook",
        "incident_link",
        "count",
        "last_seen_at",
        "all_resolved",
        "truncated_alerts",
    ]
    list_select_related = ["hook__service", "incident"]
    list_filter = [AllResolvedFilter, "hook__source", "hook__service"]
    search_fields = ["title", "key"]
    fields = [
        "hook",
        "key",
        "title",
        "incident_link",
        "count",
        "last_seen_at",
        "all_resolved_at",
        "truncated_alerts",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="incident", ordering="incident")
    def incident_link(self, obj):
        return _incident_link(obj.incident)

    @admin.display(boolean=True, description="all resolved", ordering="all_resolved_at")
    def all_resolved(self, obj):
        return obj.all_resolved_at is not None


@admin.register(Alert)
class AlertAdmin(SuperuserRecordsAdmin):
    list_display = [
        "title",
        "hook",
        "status",
        "severity_label",
        "count",
        "last_seen_at",
        "resolved_at",
    ]
    list_select_related = ["hook__service"]
    list_filter = ["status", "hook__source", "hook__service"]
    search_fields = ["title", "identity"]
    fields = [
        "hook",
        "group",
        "identity",
        "incident",
        "status",
        "title",
        "severity_label",
        "count",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
        "payload",
    ]
    readonly_fields = fields


@admin.register(SnsSubscription)
class SnsSubscriptionAdmin(SuperuserRecordsAdmin):
    """SNS subscription messages of cloudwatch hooks: confirmed by the portal, or (when that
    failed) the SubscribeURL to open by hand and why."""

    list_display = ["topic_arn", "hook", "kind", "received_at", "confirmed_at", "error"]
    list_select_related = ["hook__service"]
    list_filter = ["kind", "hook__service"]
    search_fields = ["topic_arn", "message_id"]
    fields = [
        "hook",
        "kind",
        "topic_arn",
        "message_id",
        "subscribe_link",
        "received_at",
        "confirmed_at",
        "error",
    ]
    readonly_fields = fields

    @admin.display(description="SubscribeURL")
    def subscribe_link(self, obj):
        if not obj.subscribe_url:
            return "—"
        return format_html(
            '<a href="{}" rel="noreferrer noopener">Confirm at SNS</a>', obj.subscribe_url
        )
