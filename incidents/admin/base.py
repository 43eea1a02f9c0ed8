"""What the incident and post-mortem admins share: their saves are calls to
``incidents.services``, which may refuse; ``core.admin.ServiceWritesAdmin`` then rolls the whole
save back, tells staff why, writes no log entry and returns to the page.
"""

from django.contrib.auth import get_user_model

from core.admin import ServiceWritesAdmin as _ServiceWritesAdmin


def staff_users():
    return get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


class ServiceWritesAdmin(_ServiceWritesAdmin):
    """Inlines (steps, actions, owners) are saved by the services or not at all."""

    def save_related(self, request, form, formsets, change):
        # The admin's change message reads what formset.save() would have set.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def act_on_each(self, request, incidents, act, **kwargs):
        return super().act_on_each(
            request, incidents, act, name=lambda incident: incident.number, **kwargs
        )
