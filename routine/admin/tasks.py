"""Staff see and edit the plan's routine task definitions (what, how often), scoped to the
services they work; the plan loader writes them, and the dated items live in ``items``."""

from django.contrib import admin

from routine.models import RoutineTask
from sla.admin_scoping import ServiceScopedAdminMixin


@admin.register(RoutineTask)
class RoutineTaskAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "service", "every", "category", "tier", "retired_at"]
    list_filter = ["every", "service", "category", ("retired_at", admin.EmptyFieldListFilter)]
    list_select_related = ["service"]
    search_fields = ["name", "service__name"]
