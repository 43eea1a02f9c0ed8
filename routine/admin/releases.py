"""Staff record a release here; its dated checklist item appears in the routine checklist.

Any staff member with a tier may record a release of a service they work (as anyone on the
checklist may tick an item); nobody edits or deletes one: the record is what started the clock.
"""

from django import forms
from django.contrib import admin

from accounts.roles import staff_tier_level
from core.admin import ServiceWritesAdmin
from routine.models import Release, RoutineTask
from routine.services import release_record
from sla.selectors import limit_to_staff_services


def _may(user):
    return user.is_active and (user.is_superuser or staff_tier_level(user) is not None)


class ReleaseForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ["task", "name", "released_at"]


@admin.register(Release)
class ReleaseAdmin(ServiceWritesAdmin):
    form = ReleaseForm
    refused_text = "The release was not recorded"
    list_display = ["name", "task", "service_name", "released_at", "due_display", "recorded_by"]
    list_select_related = ["task__service", "recorded_by", "item"]
    search_fields = ["name", "task__name"]
    ordering = ["-released_at", "id"]

    @admin.display(description="service")
    def service_name(self, obj):
        return obj.task.service.name

    @admin.display(description="due")
    def due_display(self, obj):
        item = getattr(obj, "item", None)
        return f"{item.due_at:%Y-%m-%d %H:%M} UTC" if item else "—"

    def get_queryset(self, request):
        releases = super().get_queryset(request)
        if request.user.is_superuser:
            return releases
        return limit_to_staff_services(releases, user=request.user, field="task__service")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "task":
            tasks = RoutineTask.objects.filter(
                every=RoutineTask.Every.ON_RELEASE, retired_at__isnull=True
            ).select_related("service")
            if not request.user.is_superuser:
                tasks = limit_to_staff_services(tasks, user=request.user)
            kwargs["queryset"] = tasks
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def write(self, request, obj, form, change):
        release = release_record(
            task=form.cleaned_data["task"],
            name=form.cleaned_data["name"],
            released_at=form.cleaned_data["released_at"],
            by=request.user,
        )
        obj.pk = release.pk

    def has_module_permission(self, request):
        return _may(request.user)

    def has_view_permission(self, request, obj=None):
        return _may(request.user)

    def has_add_permission(self, request):
        return _may(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
