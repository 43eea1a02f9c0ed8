"""django-axes' log-in records (attempts, log, failures) as axes registers them, with their
date hierarchy bounded: an out-of-range year is a bad lookup, not a 500; and the sign-ups
waiting for access."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from core.admin import BoundedDateHierarchyMixin

from .models import PendingSignup

for model in (AccessAttempt, AccessLog, AccessFailureLog):
    # axes registers each only when its settings ask for it: keep exactly what it registered.
    if admin.site.is_registered(model):
        shipped = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        admin.site.register(model, type(shipped.__name__, (BoundedDateHierarchyMixin, shipped), {}))


@admin.register(PendingSignup)
class PendingSignupAdmin(admin.ModelAdmin):
    """Customers who confirmed their address on no organisation's domain: they wait for staff
    to add them to their organisation (which gives them its service; they are emailed)."""

    list_display = ["email", "date_joined", "last_login"]
    search_fields = ["email"]
    ordering = ["date_joined"]
    fields = ["email", "date_joined", "last_login", "what_next"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(is_active=True, is_staff=False, is_superuser=False)
            .filter(service_memberships__isnull=True)
        )

    @admin.display(description="what next")
    def what_next(self, obj):
        return (
            "Add this address as a member of the customer's organisation (Organisations → "
            "members): that gives them the organisation's service, and they are emailed. Add "
            "the organisation's email domain too, and colleagues who sign up get in at once."
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff
