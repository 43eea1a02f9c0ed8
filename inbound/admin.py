"""Inbound messages, for superusers: what arrived, what became of it, the raw message.

Superusers only, as the email outbox (``notifications.admin``): an inbound message is whatever
anyone sent to a support address, for any service and tier, often with a customer's private
text, and it is not yet attached to anything a tier's scope could be checked against. Staff see
what came of a message where it matters, on the ticket.
"""

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from portal.admin_pages import ReadOnlyAdminMixin

from .models import InboundMessage
from .services import inbound_reprocess


def _is_superuser(request):
    return request.user.is_active and request.user.is_superuser


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "via",
        "sender",
        "subject",
        "outcome",
        "reason_excerpt",
        "ticket_link",
    ]
    list_filter = ["outcome", "via"]
    list_select_related = ["ticket"]
    search_fields = ["sender", "subject", "message_id", "recipients"]
    ordering = ["-received_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["process_again"]
    fields = [
        "message_id",
        "received_at",
        "via",
        "sender",
        "recipients",
        "subject",
        "size",
        "raw_complete",
        "outcome",
        "reason",
        "ticket_link",
        "attempts",
        "processed_at",
        "raw_download",
    ]
    readonly_fields = fields

    def has_module_permission(self, request):
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_process_permission(self, request):
        return _is_superuser(request)

    def get_queryset(self, request):
        # The changelist never loads the raw messages (up to 25 MiB each).
        return super().get_queryset(request).defer("raw")

    def get_urls(self):
        return [
            path(
                "<int:pk>/raw/",
                self.admin_site.admin_view(self.raw_view),
                name="inbound_inboundmessage_raw",
            ),
            *super().get_urls(),
        ]

    def raw_view(self, request, pk):
        if not _is_superuser(request):
            return HttpResponse(status=403)
        message = get_object_or_404(InboundMessage, pk=pk)
        response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{message.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @admin.display(description="reason")
    def reason_excerpt(self, obj):
        return Truncator(obj.reason).chars(90)

    @admin.display(description="ticket")
    def ticket_link(self, obj):
        if obj.ticket_id is None:
            return "—"
        url = reverse("admin:tickets_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">#{}</a>', url, obj.ticket_id)

    @admin.display(description="raw message")
    def raw_download(self, obj):
        url = reverse("admin:inbound_inboundmessage_raw", args=[obj.pk])
        label = "download (.eml)" if obj.raw_complete else "download (headers only)"
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.action(description="Process again (refused or pending)", permissions=["process"])
    def process_again(self, request, queryset):
        done = skipped = 0
        for message in queryset.order_by("id"):
            if inbound_reprocess(message=message) is None:
                skipped += 1
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} processed again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: already acted on, ignored on purpose, or only headers kept.",
                messages.WARNING,
            )
