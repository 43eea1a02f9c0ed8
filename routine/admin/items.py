"""The checklist's change list, change page, evidence download and "mark done" action.

Every write goes through ``routine.services``; the list is scoped by ``items_for_staff``.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from core.admin import REFUSALS, ServiceWritesAdmin, error_text
from routine import recovery
from routine.forms import MarkDoneFields, RoutineItemForm
from routine.models import RoutineItem
from routine.selectors import item_get_for_staff, items_for_staff
from routine.services import routine_item_complete, routine_item_record_results
from sla.models import ServiceTargets
from tickets.attachments import download_response

from .filters import OverdueFilter, OwnerTierFilter, ResultsFilter


def _verdict(met):
    if met is None:
        return "no target"
    return "met" if met else "missed"


@admin.register(RoutineItem)
class RoutineItemAdmin(ServiceWritesAdmin):
    form = RoutineItemForm
    view_on_site = False  # the item's URL is this change page (for the emails' links)
    list_display = [
        "item_display",
        "service",
        "every",
        "period_display",
        "due_display",
        "tier",
        "overdue_marker",
        "done_display",
        "results_display",
    ]
    list_filter = ["service", "every", OwnerTierFilter, OverdueFilter, ResultsFilter]
    list_select_related = ["task", "service", "done_by"]
    search_fields = ["task__name", "label", "note"]
    ordering = ["-due_at", "id"]
    list_per_page = 100
    actions = ["mark_done"]
    readonly_fields = [
        "item_display",
        "service",
        "every",
        "period_display",
        "due_display",
        "tier",
        "overdue_marker",
        "created_at",
        "reminded_at",
        "done_at",
        "done_by",
        "note",
        "evidence_link",
        "results_display",
        "results_recorded_at",
        "results_recorded_by",
    ]

    # --- scope and permissions -------------------------------------------------------------

    def get_queryset(self, request):
        return items_for_staff(user=request.user).select_related("task", "service", "done_by")

    def has_add_permission(self, request):
        return False  # beat makes the items (routine.tasks.create_routine_items)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description="item", ordering="task__name")
    def item_display(self, obj):
        return str(obj)

    @admin.display(description="period", ordering="period_start")
    def period_display(self, obj):
        if obj.period_start == obj.period_end:
            return f"{obj.period_start:%a %d %b %Y}"
        return f"{obj.period_start:%d %b %Y} – {obj.period_end:%d %b %Y}"

    @admin.display(description="due", ordering="due_at")
    def due_display(self, obj):
        # The end of the period's last local day: a date is what staff plan by.
        return f"end of {obj.period_end:%a %d %b %Y} ({obj.service.timezone})"

    @admin.display(description="overdue")
    def overdue_marker(self, obj):
        now = timezone.now()
        if obj.done_at is not None:
            late = obj.done_at > obj.due_at
            return format_html(
                '<span class="routine-done">{}</span>', "done late" if late else "done"
            )
        if obj.is_overdue(now):
            return format_html(
                '<strong class="routine-overdue">overdue {}</strong>',
                timesince(obj.due_at, now, depth=1),
            )
        return format_html(
            '<span class="routine-open">due in {}</span>', timesince(now, obj.due_at, depth=1)
        )

    @admin.display(description="done", ordering="done_at")
    def done_display(self, obj):
        if obj.done_at is None:
            return "—"
        who = obj.done_by.get_username() if obj.done_by_id else "?"
        return f"{obj.done_at:%Y-%m-%d %H:%M} UTC by {who}"

    @admin.display(description="RTO / RPO")
    def results_display(self, obj):
        if not obj.recovery_test:
            return "—"
        if not obj.has_results:
            return "no results yet"
        return format_html_join(
            " · ",
            '{} {} (target {}): <strong class="routine-{}">{}</strong>',
            (
                (name, achieved, target or "none", _verdict(met), _verdict(met))
                for name, achieved, target, met in obj.result_lines()
            ),
        )

    @admin.display(description="evidence")
    def evidence_link(self, obj):
        if not obj.evidence:
            return "—"
        url = reverse("admin:routine_routineitem_evidence", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> ({} bytes)', url, obj.evidence_name, obj.evidence_size
        )

    # --- change page -----------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                None,
                {
                    "fields": [
                        "item_display",
                        "service",
                        ("every", "period_display"),
                        ("due_display", "overdue_marker"),
                        "tier",
                        ("created_at", "reminded_at"),
                    ]
                },
            )
        ]
        can_change = obj is not None and self.has_change_permission(request, obj)
        if obj is not None and obj.done_at is None and can_change:
            fieldsets.append(("Tick off", {"fields": ["mark_done", "done_note", "done_evidence"]}))
        else:
            fieldsets.append(
                ("Done", {"fields": [("done_at", "done_by"), "note", "evidence_link"]})
            )
        if obj is not None and obj.recovery_test:
            fields = ["results_display", ("results_recorded_at", "results_recorded_by")]
            if can_change:
                fields = ["recovery_class_choice", ("rto_input", "rpo_input"), *fields]
            fieldsets.append(
                (
                    "DR drill / restore test results",
                    {
                        "fields": fields,
                        "description": "Achieved times are judged against the plan's targets "
                        "(met when at or under the target).",
                    },
                )
            )
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        classes = []
        if obj is not None and obj.recovery_test:
            classes = recovery.recovery_classes(
                ServiceTargets.objects.filter(service_id=obj.service_id).first()
            )

        class WithClasses(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, recovery_classes=classes, **kw)

        return WithClasses

    def write(self, request, obj, form, change):
        """Route the change through the services (results and tick-off stand or fall together);
        a refusal saves nothing and says why (``ServiceWritesAdmin``)."""
        self._apply(request, obj, form)

    def _apply(self, request, item, form):
        # The form's declared fields are posted whatever the fieldsets showed, on purpose: a
        # page opened before someone else ticked the item off still asks to tick it, and the
        # service's "already ticked off" refusal is what its author should see.
        data, changed = form.cleaned_data, set(form.changed_data)
        if (
            item.recovery_test
            and changed & {"recovery_class_choice", "rto_input", "rpo_input"}
            and form.results_given
        ):
            routine_item_record_results(
                item=item,
                by=request.user,
                rto_achieved=data.get("rto_input"),
                rpo_achieved=data.get("rpo_input"),
                recovery_class=data.get("recovery_class_choice") or "",
            )
        if data.get("mark_done"):
            routine_item_complete(
                item=item,
                by=request.user,
                note=data.get("done_note") or "",
                evidence=data.get("done_evidence"),
            )

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields or inlines; the services did the work

    # --- evidence download -----------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:item_id>/evidence/",
                self.admin_site.admin_view(self.evidence_view),
                name="routine_routineitem_evidence",
            ),
            *super().get_urls(),
        ]

    def evidence_view(self, request, item_id):
        item = item_get_for_staff(user=request.user, item_id=item_id)
        if not self.has_view_permission(request, item):
            raise PermissionDenied
        if not item.evidence:
            raise Http404("This item has no evidence file.")
        return download_response(
            item.evidence, filename=item.evidence_name, content_type=item.evidence_content_type
        )

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Mark done (with a note or evidence)", permissions=["change"])
    def mark_done(self, request, queryset):
        """Ask for the note and file first (an intermediate page), then tick each item off."""
        items = list(queryset.select_related("task", "service").order_by("due_at", "id"))
        if "apply" in request.POST:
            form = MarkDoneFields(request.POST, request.FILES)
            if form.is_valid():
                self._each(
                    request,
                    items,
                    lambda item: routine_item_complete(
                        item=item,
                        by=request.user,
                        note=form.cleaned_data["note"],
                        evidence=form.cleaned_data["evidence"],
                    ),
                )
                return None
        else:
            form = MarkDoneFields()
        return render(
            request,
            "routine/admin/mark_done.html",
            {
                **self.admin_site.each_context(request),
                "title": "Mark routine items done",
                "opts": self.model._meta,
                "items": items,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _each(self, request, items, act):
        """Tick each item off on its own; report what worked and what was refused."""
        done = []
        for item in items:
            try:
                act(item)
            except REFUSALS as exc:
                self.message_user(request, f"{item} not done: {error_text(exc)}", messages.ERROR)
            else:
                done.append(str(item))
        if done:
            noun = "item" if len(done) == 1 else "items"
            self.message_user(
                request, f"{len(done)} {noun} done: {'; '.join(done)}.", messages.SUCCESS
            )
