"""What the incident and post-mortem admins share: their saves are calls to
``incidents.services``, which may refuse (``ValidationError``, ``PermissionDenied``).

A refusal rolls the whole save back (the admin's view runs in one transaction), tells staff why,
writes no log entry and returns to the page; an action runs on each row on its own and reports
what worked and what was refused.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect

REFUSALS = (ValidationError, PermissionDenied)


def error_text(exc):
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


def staff_users():
    return get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


class ServiceWritesAdmin(admin.ModelAdmin):
    """A model admin that saves through services: subclasses write ``write``."""

    def write(self, request, obj, form, change):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        try:
            with transaction.atomic():
                self.write(request, obj, form, change)
        except REFUSALS as exc:
            self.refuse(request, exc)

    def refuse(self, request, exc):
        transaction.set_rollback(True)
        request._incidents_admin_refused = True
        self.message_user(request, f"Nothing was saved: {error_text(exc)}", messages.ERROR)

    def refused(self, request):
        return getattr(request, "_incidents_admin_refused", False)

    def save_related(self, request, form, formsets, change):
        # The inlines are saved by the services (or not at all); the admin's change message
        # reads what formset.save() would have set.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def log_addition(self, request, obj, message):
        return None if self.refused(request) else super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return None if self.refused(request) else super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if self.refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if self.refused(request):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def act_on_each(self, request, incidents, act, *, done, one="{}", many="{}"):
        """Run ``act(incident)`` on each incident on its own (a service call is one transaction);
        report each refusal (``one`` names the incident) and then what worked (``many``)."""
        succeeded = []
        for incident in incidents:
            try:
                act(incident)
            except REFUSALS as exc:
                self.message_user(
                    request,
                    f"{one.format(incident.number)} not {done}: {error_text(exc)}",
                    messages.ERROR,
                )
            else:
                succeeded.append(incident.number)
        if succeeded:
            self.message_user(
                request, f"{many.format(', '.join(succeeded))} {done}.", messages.SUCCESS
            )
