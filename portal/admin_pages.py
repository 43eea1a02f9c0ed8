"""Admin building blocks shared by the apps: read-only admins and inlines, a staff page.

``StaffPageAdmin``: the uptime report and the success-metrics dashboard are such pages:
figures over a whole service, not any one customer's tickets, so every tier may read them, and
nobody can add, change or delete anything through them. The page is the proxy model's
changelist URL (which the admin index links to); a subclass writes ``changelist_view`` and may
add URLs after it.
"""

from django.contrib import admin
from django.urls import path


class ReadOnlyAdminMixin:
    """Nothing added, changed or deleted by hand: rows written by services (records of what
    happened, like events and sent emails) or pages of figures. Viewing follows the model's
    view permission unless the admin says otherwise."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def is_active_staff(request):
    return request.user.is_active and request.user.is_staff


def is_active_superuser(request):
    return request.user.is_active and request.user.is_superuser


class SuperuserRecordsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Records only a superuser reads (alerts, pages sent): they gather every service's and
    tier's content in one list, so no tier's permission opens them."""

    def has_module_permission(self, request):
        return is_active_superuser(request)

    def has_view_permission(self, request, obj=None):
        return is_active_superuser(request)


class StaffPageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_module_permission(self, request):
        return is_active_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_active_staff(request)

    def url_name(self, suffix):
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{suffix}"

    def more_urls(self, admin_view):
        """URLs beside the page itself, each view wrapped in ``admin_view``."""
        return []

    def get_urls(self):
        admin_view = self.admin_site.admin_view
        return [
            path("", admin_view(self.changelist_view), name=self.url_name("changelist")),
            *self.more_urls(admin_view),
        ]


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown on a page and never edited there: history (step records, contract periods,
    usage emails) or rows with their own way to change (a time entry is voided on its page)."""

    extra = 0
    can_delete = False
