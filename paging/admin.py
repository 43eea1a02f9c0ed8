"""Pages and chat destinations and their outbox, for superusers only.

Destinations are written by loading the plan (read-only here); the admin shows whether each
one's environment variable is set, never its value. A failed delivery shows why and is sent
again with the "Send again" action (``delivery_retry``: a sent one is never sent twice).
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.admin import SuperuserRecordsAdmin

from .models import Delivery, Destination, OnCallPage, PagerDutyWebhookEvent
from .oncall import on_call_page_acknowledge
from .services import delivery_retry, destination_configured
from .webhooks import webhook_configured


@admin.register(Destination)
class DestinationAdmin(SuperuserRecordsAdmin):
    list_display = ["name", "service", "kind", "secret_env", "configured", "events", "retired_at"]
    list_select_related = ["service"]
    list_filter = ["kind", "service"]
    search_fields = ["name", "service__slug"]
    fields = [
        "service",
        "name",
        "kind",
        "secret_env",
        "configured",
        "url",
        "webhook_secret_env",
        "webhook_configured",
        "webhook_path",
        "events",
        "priorities",
        "tiers",
        "retired_at",
    ]
    readonly_fields = fields

    @admin.display(boolean=True, description="configured")
    def configured(self, obj):
        return destination_configured(obj)

    @admin.display(boolean=True, description="webhook secret set")
    def webhook_configured(self, obj):
        return webhook_configured(obj) if obj.webhook_secret_env else None

    @admin.display(description="PagerDuty webhook URL")
    def webhook_path(self, obj):
        if not obj.webhook_secret_env or obj.kind != "pagerduty":
            return "—"
        return reverse("paging_hooks:pagerduty", args=[obj.service.slug, obj.name])


@admin.register(Delivery)
class DeliveryAdmin(SuperuserRecordsAdmin):
    list_display = [
        "id",
        "event",
        "destination_link",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "created_at",
        "sent_at",
    ]
    list_select_related = ["destination__service"]
    list_filter = ["status", "event", "destination__kind"]
    search_fields = ["key", "message_id", "destination__name"]
    actions = ["send_again"]
    fields = [
        "key",
        "destination",
        "event",
        "message_id",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "give_up_at",
        "last_status_code",
        "last_error",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        # The action needs it; every field stays read-only.
        return request.user.is_active and request.user.is_superuser

    @admin.display(description="destination", ordering="destination__name")
    def destination_link(self, obj):
        url = reverse("admin:paging_destination_change", args=[obj.destination_id])
        return format_html('<a href="{}">{}</a>', url, obj.destination)

    @admin.action(description="Send again (failed or waiting deliveries)")
    def send_again(self, request, queryset):
        queued = sum(delivery_retry(delivery=delivery) for delivery in queryset)
        self.message_user(
            request, f"{queued} delivery(ies) queued; sent ones are left alone.", messages.INFO
        )


@admin.register(OnCallPage)
class OnCallPageAdmin(SuperuserRecordsAdmin):
    """What the on-call rotation was paged for, who acknowledged it, whether the secondary was
    called in, whether it was resolved before anyone acknowledged it (closed: who, why);
    "Acknowledge" takes it for the signed-in member."""

    list_display = [
        "title",
        "service",
        "tier_level",
        "primary",
        "secondary",
        "created_at",
        "acknowledged_at",
        "acknowledged_by",
        "secondary_told_at",
        "closed_at",
        "closed_reason",
    ]
    list_select_related = ["service", "primary", "secondary", "acknowledged_by"]
    list_filter = ["service", "acknowledged_via", "closed_reason"]
    search_fields = ["title", "key", "dedup_key"]
    actions = ["acknowledge"]
    fields = [
        "key",
        "dedup_key",
        "service",
        "tier_level",
        "title",
        "url",
        "primary",
        "secondary",
        "secondary_due_at",
        "acknowledged_at",
        "acknowledged_by",
        "acknowledged_via",
        "secondary_told_at",
        "closed_at",
        "closed_by",
        "closed_reason",
        "created_at",
    ]
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        # The action needs it; every field stays read-only.
        return request.user.is_active and request.user.is_superuser

    @admin.action(description="Acknowledge (I take it)")
    def acknowledge(self, request, queryset):
        taken = sum(
            on_call_page_acknowledge(page=page, by=request.user, via=OnCallPage.Via.ADMIN)
            for page in queryset
        )
        self.message_user(request, f"{taken} page(s) acknowledged.", messages.INFO)


@admin.register(PagerDutyWebhookEvent)
class PagerDutyWebhookEventAdmin(SuperuserRecordsAdmin):
    """What PagerDuty posted back (signature verified), once per event id, and what it did."""

    list_display = [
        "received_at",
        "event_type",
        "incident_key",
        "outcome",
        "pages_acknowledged",
        "agent",
        "destination",
    ]
    list_select_related = ["destination__service"]
    list_filter = ["outcome", "event_type", "destination__service"]
    search_fields = ["incident_key", "event_id", "incident_id"]
    fields = [
        "destination",
        "event_id",
        "event_type",
        "incident_key",
        "incident_id",
        "incident_url",
        "agent",
        "occurred_at",
        "outcome",
        "pages_acknowledged",
        "received_at",
    ]
    readonly_fields = fields
