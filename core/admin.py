"""The admin's building blocks, shared by every app's admin pages.

- Pages that write nothing by hand: ``ReadOnlyAdminMixin``, ``ReadOnlyInline``,
  ``SuperuserRecordsAdmin`` (records only a superuser reads) and ``StaffPageAdmin`` (a page of
  figures every tier reads: the uptime report, the success-metrics dashboard).
- Pages that write through services: ``ServiceWritesAdmin``. A service may refuse a change
  (``ValidationError``, ``PermissionDenied``); the admin then saves nothing, writes no log
  entry, shows the page again and says why (``error_text``). ``add_errors`` puts a refusal on a
  form's fields where a form checks with a service before saving.
- Changelists that hold against hand-edited and hostile query strings: ``ChoiceListFilter`` and
  ``BoundedDateHierarchyMixin`` (tests/portal/test_admin_hostile_queries.py walks every
  changelist to prove it).
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import path

# What a service raises when it refuses a change; anything else is a bug and a 500.
REFUSALS = (ValidationError, PermissionDenied)


def error_text(exc):
    """A service's refusal as one line for staff."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


def add_errors(form, exc, fields=None):
    """Show a refusal on ``form``: a ``ValidationError`` keyed by field on the matching fields
    (``fields`` renames a service's key to a form field), everything else on top."""
    fields = fields or {}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            name = fields.get(key, key)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error_text(exc))


# --- refusals on a change page -------------------------------------------------------------

# The one request attribute that carries "a service refused this save" from ``save_model`` (or
# an inline's formset) to the log and response hooks that run after it in the same request.
_REFUSED = "_service_refused"


def mark_refused(request):
    """Record on ``request`` that a service refused the change being saved, and roll back
    the admin view's transaction (the page's other writes, its inlines, its emails)."""
    transaction.set_rollback(True)
    setattr(request, _REFUSED, True)


def was_refused(request):
    return getattr(request, _REFUSED, False)


class ServiceWritesAdmin(admin.ModelAdmin):
    """A model admin whose saves are service calls: a subclass writes ``write``.

    ``write`` runs in a savepoint; a refusal rolls back everything the page wrote (the admin's
    change view is one transaction), says "<refused_text>: <why>" on the page, which is shown
    again, writes no log entry and saves no inline. ``act_on_each`` does the same for an action,
    row by row.
    """

    refused_text = "Nothing was saved"

    def write(self, request, obj, form, change):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        try:
            with transaction.atomic():
                self.write(request, obj, form, change)
        except REFUSALS as exc:
            self.refuse(request, exc)

    def refuse(self, request, exc):
        mark_refused(request)
        self.message_user(request, f"{self.refused_text}: {error_text(exc)}", messages.ERROR)

    def refused(self, request):
        return was_refused(request)

    def save_related(self, request, form, formsets, change):
        if was_refused(request):
            for formset in formsets:
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        return None if was_refused(request) else super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        return None if was_refused(request) else super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if was_refused(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if was_refused(request):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def act_on_each(self, request, rows, act, *, done, one="{}", many="{}", name=str):
        """Run ``act(row)`` on each row on its own (a service call is one transaction); report
        each refusal (``one`` formats the row's ``name``) and then what worked (``many``)."""
        succeeded = []
        for row in rows:
            try:
                act(row)
            except REFUSALS as exc:
                self.message_user(
                    request,
                    f"{one.format(name(row))} not {done}: {error_text(exc)}",
                    messages.ERROR,
                )
            else:
                succeeded.append(name(row))
        if succeeded:
            self.message_user(
                request, f"{many.format(', '.join(succeeded))} {done}.", messages.SUCCESS
            )


# --- pages that write nothing ----------------------------------------------------------------


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
    """A page of figures over a whole service, not any one customer's tickets, so every tier
    may read it. The page is the proxy model's changelist URL (which the admin index links to);
    a subclass writes ``changelist_view`` and may add URLs after it (``more_urls``)."""

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


# --- changelists against hostile query strings ----------------------------------------------


class ChoiceListFilter(admin.SimpleListFilter):
    """A list filter whose value is one of its own lookups, or none at all.

    ``queryset`` then only ever sees a value the filter offered itself: a huge number, a
    superscript digit that ``int()`` refuses, a code no priority has, or text a column cannot
    hold shows the unfiltered list instead of reaching a query.
    """

    def value(self):
        value = super().value()
        if value in {str(key) for key, _ in self.lookup_choices}:
            return value
        return None


class BoundedDateHierarchyChangeList(ChangeList):
    """Django 5.2's date hierarchy answers ``?<field>__year=9999`` (the year after it is out
    of range) and a year beyond a C long (``OverflowError``) with a 500; here they are bad
    lookups like any other: the ``?e=1`` redirect. Django #37357 fixes it upstream; drop this
    once the Django we run has that fix."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            if self.date_hierarchy and f"{self.date_hierarchy}__year" in self.params:
                raise IncorrectLookupParameters(error) from error
            raise


class BoundedDateHierarchyMixin:
    """For a ModelAdmin with ``date_hierarchy``: see ``BoundedDateHierarchyChangeList``."""

    def get_changelist(self, request, **kwargs):
        return BoundedDateHierarchyChangeList
