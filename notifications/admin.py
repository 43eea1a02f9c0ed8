"""The outbox, for staff to see what was sent and to put a failed email back in the queue."""

from django.contrib import admin, messages
from django.utils.text import Truncator

from portal.admin_pages import ReadOnlyAdminMixin

from .models import Notification
from .services import notification_retry

# Outbox rows whose key or body carries a credential (email verification and password reset
# links): a staff member who could read one could take over that account, a superuser's too.
CREDENTIAL_KEY_PREFIXES = ("accounts:",)


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
        "key",
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

    def get_queryset(self, request):
        notifications = super().get_queryset(request)
        if not request.user.is_superuser:
            for prefix in CREDENTIAL_KEY_PREFIXES:
                notifications = notifications.exclude(key__startswith=prefix)
        return notifications

    # Bulk rows keep their body in a shared NotificationBody plus this recipient's placeholders:
    # show what the recipient gets, not the (empty) per-row columns.
    @admin.display(description="Headers")
    def delivered_headers(self, obj):
        return obj.content()[3]

    @admin.display(description="Text")
    def delivered_text(self, obj):
        return obj.content()[1]

    @admin.display(description="HTML (source)")
    def delivered_html(self, obj):
        return obj.content()[2]

    def has_retry_permission(self, request):
        # Retrying is the one change staff make here; the change permission grants it.
        return request.user.has_perm("notifications.change_notification")

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
