"""Time on the ticket's page: the entries logged (read-only) and a row to log more.

``tickets.admin`` shows these two inlines; saving the ticket page saves a new row through
``time_entry_log``, after the ticket's own changes (and not at all when those were refused).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html

from accounts.roles import staff_tier_level
from contracts import services
from contracts.models import TimeEntry
from contracts.selectors import format_hours
from core.admin import ReadOnlyInline, add_errors, error_text, mark_refused


class OptionalInlineFormSet(forms.BaseInlineFormSet):
    """A post that does not carry this formset at all means "nothing here", not a broken page.

    The ticket page renders these inlines, but whatever posts the ticket's form without them
    (a script, a test, an older page) must keep working: with none of the formset's fields in
    the data there is nothing to save, so the missing management form is no error. A partial
    formset is still refused, as Django would.
    """

    def full_clean(self):
        super().full_clean()
        if self.is_bound and not any(key.startswith(f"{self.prefix}-") for key in self.data):
            self._non_form_errors = self.error_class(error_class="nonform", renderer=self.renderer)


class TimeEntryInline(ReadOnlyInline):
    """The ticket's time, read-only: a mistake is voided from the entry's own page."""

    model = TimeEntry
    fk_name = "ticket"
    formset = OptionalInlineFormSet
    verbose_name = "time entry"
    verbose_name_plural = "time logged"
    fields = ["worked_at", "staff", "duration", "note", "state"]
    readonly_fields = fields
    ordering = ["worked_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff", "voided_by")

    @admin.display(description="time")
    def duration(self, obj):
        return f"{obj.minutes} min ({format_hours(obj.minutes)} h)"

    @admin.display(description="")
    def state(self, obj):
        if obj.voided:
            return format_html(
                '<span class="time-voided">voided</span> by {} on {}: {}',
                obj.voided_by,
                f"{obj.voided_at:%Y-%m-%d}",
                obj.void_reason,
            )
        url = reverse("admin:contracts_timeentry_change", args=[obj.pk])
        return format_html('<a href="{}">void…</a>', url)


class TimeEntryLogForm(forms.ModelForm):
    minutes = forms.IntegerField(min_value=1, max_value=services.MAX_ENTRY_MINUTES)
    worked_at = forms.SplitDateTimeField(
        required=False,
        widget=AdminSplitDateTime,
        label="worked at (UTC)",
        help_text="In UTC; leave blank for now. This month or last month only.",
    )
    # Set by the formset: the staff member logging, and the ticket.
    user = None
    ticket = None

    class Meta:
        model = TimeEntry
        fields = ["minutes", "worked_at", "note"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            # The service's own checks, so what it would refuse shows here as a field error.
            services.time_entry_validate(
                ticket=self.ticket,
                by=self.user,
                minutes=data["minutes"],
                note=data.get("note", ""),
                at=data.get("worked_at"),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_errors(self, exc, {"at": "worked_at"})
        return data


class TimeEntryLogFormSet(OptionalInlineFormSet):
    request = None  # set by TimeEntryLogInline.get_formset

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.user, form.ticket = self.request.user, self.instance
        return form

    def save_new_objects(self, commit=True):
        try:
            return super().save_new_objects(commit)
        except (ValidationError, PermissionDenied) as exc:
            self._refuse(exc)
            return []

    def _refuse(self, exc):
        """The ticket's own changes are saved before the inlines, and one of them can be why
        the time, valid when the page was checked, is refused now: an escalation takes the
        ticket out of a tier 1 member's reach. Undo the whole save and say why, as the ticket
        page does when one of its own changes is refused (``mark_refused``: ``TicketAdmin``
        then skips its log entry and shows the page again)."""
        mark_refused(self.request)
        self.new_objects = []
        messages.error(
            self.request,
            f"Nothing was saved: the time could not be logged with the other changes "
            f"({error_text(exc)}). Log the time on its own first, then make the change.",
        )

    def save_new(self, form, commit=True):
        data = form.cleaned_data
        return services.time_entry_log(
            ticket=self.instance,
            by=self.request.user,
            minutes=data["minutes"],
            note=data.get("note", ""),
            at=data.get("worked_at"),
        )

    def save_existing(self, form, obj, commit=True):
        return obj  # this formset only adds


class TimeEntryLogInline(admin.TabularInline):
    """ "Log time" on the ticket page: one new entry per row, saved by ``time_entry_log``."""

    model = TimeEntry
    fk_name = "ticket"
    form = TimeEntryLogForm
    formset = TimeEntryLogFormSet
    verbose_name = "time entry"
    verbose_name_plural = "log time"
    extra = 1
    can_delete = False
    fields = ["minutes", "worked_at", "note"]

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type("TimeEntryLogFormSet", (formset,), {"request": request})

    def has_add_permission(self, request, obj=None):
        return (
            obj is not None
            and staff_tier_level(request.user) is not None
            and super().has_add_permission(request, obj)
        )

    def has_view_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
