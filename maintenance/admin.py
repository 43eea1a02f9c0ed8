"""Staff edit maintenance policy, windows and routine tasks; rules are the plan loader's."""

from django.contrib import admin

from .models import MaintenancePolicy, MaintenanceWindow, RoutineTask


@admin.register(MaintenancePolicy)
class MaintenancePolicyAdmin(admin.ModelAdmin):
    list_display = ["service", "notices", "channels", "quarterly_digest", "allowed"]
    list_select_related = ["service"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "service",
        "category",
        "schedule",
        "start",
        "duration",
        "timezone",
        "is_active",
    ]
    list_filter = ["is_active", "service", "category"]
    list_select_related = ["service"]
    search_fields = ["name", "service__name"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(RoutineTask)
class RoutineTaskAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "every", "category", "tier", "retired_at"]
    list_filter = ["every", "service", "category", ("retired_at", admin.EmptyFieldListFilter)]
    list_select_related = ["service"]
    search_fields = ["name", "service__name"]
