"""Admin pages of rows that belong to a service, scoped to the services a staff member works.

A staff member limited to some services (``StaffService``) sees only those services' rows in
the list, gets 404 for another's page, and is offered only their services when choosing one.
Members without a limit and superusers see everything, as before scoping existed.
"""

from .models import Service
from .selectors import limit_to_staff_services


class ServiceScopedAdminMixin:
    # The lookup from the admin's model to its service ("service", "incident__service", "pk").
    service_field = "service"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return limit_to_staff_services(rows, user=request.user, field=self.service_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Service:
            kwargs["queryset"] = limit_to_staff_services(
                Service.objects.all(), user=request.user, field="pk"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
