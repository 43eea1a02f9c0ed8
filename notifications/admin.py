"""The outbox, for superusers to see what was sent and to put a failed email back in the queue.

Superusers only: an email about a ticket carries its subject, description and customer address
whatever the ticket's tier, so the outbox would show Tier 1 what the ticket admin hides from them
(and account emails carry sign-in credentials). Tier staff do not see the app at all: no entry
on the admin index, 403 on its pages.

Nobody, a superuser neither, reads a credential here: the links of confirm, unsubscribe,
email-verification and password-reset emails (text, HTML, headers, the row's key) are shown
with their token masked (``notifications.masking``).
"""

from django.contrib import admin, messages
from django.utils.text import Truncator

from core.admin import ReadOnlyAdminMixin

from .masking import mask_credentials
from .models import Notification, SuppressedAddress
from .services import address_unsuppress, notification_retry


def _is_superuser(request):
    return request.user.is_active and request.user.is_superuser


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Rows are written by the event that causes them, never by hand; a hand edit of a record
    # of what was sent would make it lie (ReadOnlyAdminMixin).
    list_display = [
        "to",
        "subject",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "last_error_excerpt",
    ]
    list_filter = ["status"]
    search_fields = ["to", "subject", "key"]
    ordering = ["-id"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["retry_delivery"]
    fields = [
        "shown_key",
        "to",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "last_error",
        "delivered_headers",
        "delivered_text",
        "delivered_html",
    ]
    readonly_fields = fields

    # Superusers only, whatever permissions a group grants (see the module docstring).
    def has_module_permission(self, request):
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_retry_permission(self, request):
        # Retrying is the one change made here.
        return _is_superuser(request)

    def _masked(self, obj):
        """(key, text, html, headers) as the recipient got them, credentials masked."""
        if not hasattr(obj, "_masked_content"):
            # Bulk rows keep their body in a shared NotificationBody plus this recipient's
            # placeholders: show what the recipient got, not the (empty) per-row columns.
            _subject, text, html, headers = obj.content()
            key, text, html, *values = mask_credentials(obj.key, text, html, *headers.values())
            obj._masked_content = (key, text, html, dict(zip(headers, values, strict=True)))
        return obj._masked_content

    @admin.display(description="Key")
    def shown_key(self, obj):
        return self._masked(obj)[0]

    @admin.display(description="Headers")
    def delivered_headers(self, obj):
        return self._masked(obj)[3]

    @admin.display(description="Text")
    def delivered_text(self, obj):
        return self._masked(obj)[1]

    @admin.display(description="HTML (source)")
    def delivered_html(self, obj):
        return self._masked(obj)[2]

    @admin.display(description="last error")
    def last_error_excerpt(self, obj):
        return Truncator(obj.last_error).chars(80)

    @admin.action(description="Retry delivery", permissions=["retry"])
    def retry_delivery(self, request, queryset):
        retried = skipped = 0
        for notification in queryset.order_by("id"):
            if notification.status == Notification.Status.SENT:
                skipped += 1
                continue
            notification_retry(notification=notification)
            retried += 1
        if retried:
            self.message_user(
                request, f"{retried} queued for another delivery attempt.", messages.SUCCESS
            )
        if skipped:
            self.message_user(request, f"{skipped} already sent; not sent again.", messages.WARNING)


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Addresses the outbox no longer sends to (a delivery report said they bounce); the
    action lifts the suppression. Superusers only, as the outbox."""

    list_display = ["address", "created_at", "reason_excerpt"]
    search_fields = ["address"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["send_again"]
    fields = ["address", "created_at", "reason"]
    readonly_fields = fields

    def has_module_permission(self, request):
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_unsuppress_permission(self, request):
        return _is_superuser(request)

    @admin.display(description="reason")
    def reason_excerpt(self, obj):
        return Truncator(obj.reason).chars(100)

    @admin.action(description="Send to these addresses again", permissions=["unsuppress"])
    def send_again(self, request, queryset):
        lifted = sum(address_unsuppress(address=row.address) for row in queryset)
        self.message_user(
            request,
            f"{lifted} address(es) will be sent to again; use the outbox's Retry delivery for "
            "emails suppressed meanwhile.",
            messages.SUCCESS,
        )
