"""Staff open and work incidents and write post-mortems here; every write goes through services.

The incident page shows its steps (who moved it, when) and its updates, public and internal,
and has the form to move it on, resolve it and post an update. Opening an incident from
tickets goes through the ticket admin's "Open an incident" action, which lands on the add
page prefilled (service, severity, title, tickets). Post-mortems have their own page, with
their actions and owners inline (``admin_postmortems``).
"""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from sla.models import IncidentPolicy, Priority
from tickets.selectors import tickets_for_staff

from . import services
from .models import DEFAULT_STEPS, Incident, IncidentStepRecord, IncidentUpdate
from .selectors import incident_steps
from .steps import next_step

# "INC-12", "#12" and "12" all name incident 12.
_NUMBER = re.compile(r"(?:INC-|#)?\s*([0-9]{1,18})", re.IGNORECASE)


def error_text(exc):
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


def staff_users():
    return get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


def incident_add_url(tickets):
    """The incident add page prefilled from tickets of one service (most urgent first): its
    service, the first ticket's priority as severity and subject as title, all linked."""
    first = tickets[0]
    query = urlencode(
        {
            "service": first.service_id,
            "severity": first.priority_id,
            "title": first.subject[:200],
            "tickets": ",".join(str(ticket.pk) for ticket in tickets),
        }
    )
    return f"{reverse('admin:incidents_incident_add')}?{query}"


# --- changelist filters ----------------------------------------------------------------------


class SeverityFilter(admin.SimpleListFilter):
    """Severities by code ("P1") across every service, not one entry per service."""

    title = "severity"
    parameter_name = "severity"

    def lookups(self, request, model_admin):
        codes = Priority.objects.order_by("code").values_list("code", flat=True).distinct()
        return [(code, code) for code in codes]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(severity__code=self.value())
        return queryset


class StepFilter(admin.SimpleListFilter):
    """The steps of every plan's process (read from the small policy table, not incidents)."""

    title = "step"
    parameter_name = "step"

    def lookups(self, request, model_admin):
        names = list(DEFAULT_STEPS)
        for steps in IncidentPolicy.objects.values_list("steps", flat=True):
            names += [name for name in steps or () if name not in names]
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(step=self.value())
        return queryset


class ResolvedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("open", "Open"),
            ("resolved", "Resolved"),
            ("postmortem_due", "Post-mortem to write"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        if self.value() == "postmortem_due":
            return queryset.filter(resolved_at__isnull=False).filter(
                Q(postmortem__isnull=True) | Q(postmortem__completed_at__isnull=True)
            )
        return queryset


# --- inlines ---------------------------------------------------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StepRecordInline(_ReadOnlyInline):
    model = IncidentStepRecord
    verbose_name = "step"
    verbose_name_plural = "steps (who moved the incident, and when)"
    fields = ["step", "at", "by", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The incident too: each row's label (__str__) names it.
        return super().get_queryset(request).select_related("by", "incident").order_by("at", "id")


class UpdateInline(_ReadOnlyInline):
    model = IncidentUpdate
    verbose_name = "update"
    verbose_name_plural = "updates (public ones are on /status/ and emailed to subscribers)"
    fields = ["created_at", "visibility", "author", "body"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("author", "incident")
            .order_by("-created_at", "-id")
        )

    @admin.display(description="shown to")
    def visibility(self, obj):
        if obj.public:
            return format_html('<strong class="incident-public">{}</strong>', "public")
        return format_html('<em class="incident-internal">{}</em>', "internal (staff only)")


# --- the incident form -----------------------------------------------------------------------


class IncidentAdminForm(forms.ModelForm):
    """The incident's own fields, and what staff do to it: move it on, resolve, post updates."""

    move_to = forms.ChoiceField(
        required=False,
        label="Move to step",
        help_text="Steps move forward (they may be skipped); only a superuser moves one back. "
        "Entering the resolving step resolves the incident.",
    )
    step_note = forms.CharField(
        required=False,
        max_length=400,
        label="Note on the move",
        widget=forms.TextInput({"size": 80}),
    )
    resolved_at_input = forms.SplitDateTimeField(
        required=False,
        label="Impact ended at (UTC)",
        widget=AdminSplitDateTime,
        help_text="Only when it ended before now: resolves the incident at that time.",
    )
    public_update = forms.CharField(
        required=False,
        widget=forms.Textarea({"rows": 4, "cols": 80}),
        help_text="Shown on /status/ and emailed to the service's subscribers and customers.",
    )
    internal_note = forms.CharField(
        required=False,
        widget=forms.Textarea({"rows": 3, "cols": 80}),
        help_text="Seen by staff only; never shown or sent.",
    )

    class Meta:
        model = Incident
        fields = ["service", "severity", "title", "outage", "started_at", "owner", "tickets"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        incident = self.instance
        if "severity" in self.fields:
            severities = Priority.objects.filter(retired_at__isnull=True).select_related("service")
            if incident.pk:
                severities = severities.filter(
                    Q(service=incident.service_id) | Q(pk=incident.severity_id)
                )
            self.fields["severity"].queryset = severities.order_by("service__name", "position")
            self.fields["severity"].label_from_instance = lambda p: (
                f"{p.service.name}: {p.code} — {p.name}"
                if not incident.pk
                else f"{p.code} — {p.name}"
            )
        if "owner" in self.fields:
            self.fields["owner"].queryset = staff_users()
            # The post-mortem reminders go to the owner: an incident always has one (the
            # service refuses none), so an emptied field is an error, not ignored.
            self.fields["owner"].required = True
        if incident.pk:
            steps = incident_steps(incident.service_id)
            self.fields["move_to"].choices = [("", "—")] + [
                (name, name) for name in steps if name != incident.step
            ]
        else:
            for name in ("move_to", "step_note", "resolved_at_input"):
                self.fields.pop(name, None)

    def clean(self):
        data = super().clean()
        service = data.get("service") or (self.instance.service if self.instance.pk else None)
        severity = data.get("severity")
        if service is not None and severity is not None and severity.service_id != service.pk:
            self.add_error("severity", f"Choose one of {service.name}'s priorities.")
        for ticket in data.get("tickets") or ():
            if service is not None and ticket.service_id != service.pk:
                self.add_error("tickets", f"{ticket.number} belongs to another service.")
        return data


# --- incidents -------------------------------------------------------------------------------


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentAdminForm
    list_display = [
        "number_display",
        "title",
        "service",
        "severity_display",
        "step",
        "outage",
        "started_at",
        "resolved_at",
        "owner",
        "postmortem_state",
    ]
    list_display_links = ["number_display", "title"]
    list_filter = ["service", SeverityFilter, StepFilter, "outage", ResolvedFilter]
    list_select_related = ["service", "severity", "owner", "postmortem"]
    search_fields = ["title"]
    search_help_text = "Incident number (INC-12, #12 or 12) or words of the title."
    ordering = ["-started_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    autocomplete_fields = ["tickets"]
    inlines = [StepRecordInline, UpdateInline]
    actions = ["advance_to_next_step", "resolve_now"]
    readonly_fields = [
        "number_display",
        "step",
        "resolved_at",
        "postmortem_due_at",
        "postmortem_reminder_at",
        "opened_by",
        "created_at",
        "updated_at",
        "postmortem_link",
        "tickets_out_of_scope",
    ]

    # --- scope and permissions -----------------------------------------------------------

    def has_module_permission(self, request):
        return (
            request.user.is_active
            and request.user.is_staff
            and super().has_module_permission(request)
        )

    def has_delete_permission(self, request, obj=None):
        # An incident is a record of downtime (the uptime report counts it): not deleted lightly.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "tickets":
            # Only tickets the member may see can be linked (tickets are tier-scoped).
            kwargs["queryset"] = tickets_for_staff(user=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # --- changelist ----------------------------------------------------------------------

    @admin.display(description="number", ordering="id")
    def number_display(self, obj):
        return obj.number

    @admin.display(description="severity", ordering="severity__code")
    def severity_display(self, obj):
        return obj.severity.code

    @admin.display(description="post-mortem")
    def postmortem_state(self, obj):
        postmortem = getattr(obj, "postmortem", None)
        if postmortem is not None and postmortem.published_at:
            return "published"
        if postmortem is not None and postmortem.completed_at:
            return "completed"
        if obj.postmortem_due_at:
            return f"due {obj.postmortem_due_at:%Y-%m-%d %H:%M} UTC"
        return "draft" if postmortem is not None else "—"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        number = _NUMBER.fullmatch(term)
        if number and not term.isdigit():
            return queryset.filter(pk=int(number[1])), False
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if number:
            results = results | queryset.filter(pk=int(number[1]))
        return results, duplicates

    # --- change page ---------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": [
                            "service",
                            "severity",
                            "title",
                            "outage",
                            "started_at",
                            "owner",
                            "tickets",
                        ]
                    },
                )
            ]
        return [
            (
                None,
                {
                    "fields": [
                        ("number_display", "service"),
                        "title",
                        ("severity", "outage"),
                        ("started_at", "owner"),
                        ("step", "resolved_at"),
                        "tickets",
                        "tickets_out_of_scope",
                    ]
                },
            ),
            (
                "Move it on",
                {"fields": ["move_to", "step_note", "resolved_at_input"]},
            ),
            ("Post an update", {"fields": ["public_update", "internal_note"]}),
            (
                "Post-mortem",
                {
                    "fields": [
                        "postmortem_link",
                        ("postmortem_due_at", "postmortem_reminder_at"),
                        ("opened_by", "created_at", "updated_at"),
                    ]
                },
            ),
        ]

    def get_inlines(self, request, obj):
        # A new incident has no steps or updates to show yet.
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # The service of an incident is what it is: severity and tickets depend on it.
        return [*self.readonly_fields, "service"]

    def get_queryset(self, request):
        # The changelist skips list_select_related when the queryset joins already: name all.
        return (
            super()
            .get_queryset(request)
            .select_related("service", "severity", "owner", "postmortem")
        )

    def get_changeform_initial_data(self, request):
        """Prefill from the query string (the ticket admin's "Open an incident" sends it)."""
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        return initial

    @admin.display(description="post-mortem")
    def postmortem_link(self, obj):
        if obj.pk is None:
            return "—"
        postmortem = getattr(obj, "postmortem", None)
        if postmortem is None:
            url = reverse("admin:incidents_postmortem_add") + f"?incident={obj.pk}"
            return format_html('<a href="{}">Write the post-mortem</a>', url)
        url = reverse("admin:incidents_postmortem_change", args=[postmortem.pk])
        state = (
            "published"
            if postmortem.published_at
            else "completed"
            if postmortem.completed_at
            else "draft"
        )
        return format_html('<a href="{}">Open the post-mortem</a> ({})', url, state)

    @admin.display(description="other linked tickets")
    def tickets_out_of_scope(self, obj):
        """Linked tickets of a tier above the member's: counted, never shown."""
        hidden = getattr(obj, "hidden_tickets", 0)
        return f"{hidden} in higher tiers" if hidden else "—"

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # Counted here, where the viewer is known (the admin instance is shared by requests).
            visible = tickets_for_staff(user=request.user).values("pk")
            obj.hidden_tickets = obj.tickets.exclude(pk__in=visible).count()
        return obj

    # --- saving: every change through its service ---------------------------------------

    def save_model(self, request, obj, form, change):
        try:
            with transaction.atomic():
                if change:
                    self._apply_changes(request, obj, form)
                else:
                    self._open(request, obj, form)
        except (ValidationError, PermissionDenied) as exc:
            request._incident_admin_failed = True
            self.message_user(request, f"Nothing was saved: {error_text(exc)}", messages.ERROR)

    def _open(self, request, obj, form):
        data = form.cleaned_data
        incident = services.incident_open(
            service=data["service"],
            severity=data["severity"],
            title=data["title"],
            by=request.user,
            outage=data.get("outage", True),
            started_at=data.get("started_at"),
            tickets=list(data.get("tickets") or ()),
            owner=data.get("owner"),
        )
        # The admin goes on with ``obj`` (messages, log entry, redirect): make it the new row.
        obj.pk = incident.pk
        obj.step = incident.step
        obj._state.adding = False

    def _apply_changes(self, request, obj, form):
        data, changed, user = form.cleaned_data, set(form.changed_data), request.user
        current = Incident.objects.get(pk=obj.pk)
        edits = {
            name: data[name]
            for name in ("title", "severity", "outage", "started_at", "owner")
            if name in changed and data.get(name) is not None
        }
        if edits:
            services.incident_edit(incident=current, by=user, **edits)
        if "tickets" in changed:
            self._relink(request, current, data.get("tickets") or ())
        if (data.get("public_update") or "").strip():
            services.incident_post_update(
                incident=current, body=data["public_update"], public=True, by=user
            )
        if (data.get("internal_note") or "").strip():
            services.incident_post_update(
                incident=current, body=data["internal_note"], public=False, by=user
            )
        note = data.get("step_note") or ""
        if data.get("resolved_at_input"):
            services.incident_resolve(
                incident=current, by=user, resolved_at=data["resolved_at_input"], note=note
            )
            current.refresh_from_db()
            note = ""
        target = data.get("move_to")
        if target and target != current.step:
            services.incident_advance(incident=current, step=target, by=user, note=note)

    def _relink(self, request, incident, chosen):
        visible = set(
            tickets_for_staff(user=request.user)
            .filter(incidents=incident)
            .values_list("pk", flat=True)
        )
        chosen_ids = {ticket.pk for ticket in chosen}
        for ticket in chosen:
            if ticket.pk not in visible:
                services.incident_link_ticket(incident=incident, ticket=ticket, by=request.user)
        # Only tickets the member can see are unlinked; higher tiers' links are not theirs.
        for ticket in tickets_for_staff(user=request.user).filter(pk__in=visible - chosen_ids):
            services.incident_unlink_ticket(incident=incident, ticket=ticket, by=request.user)

    def save_related(self, request, form, formsets, change):
        # Tickets were linked by the services; the inlines are read-only. The admin's change
        # message reads what formset.save() would have set.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def log_addition(self, request, obj, message):
        if getattr(request, "_incident_admin_failed", False):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if getattr(request, "_incident_admin_failed", False):
            return None
        return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_incident_admin_failed", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_incident_admin_failed", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # --- actions -------------------------------------------------------------------------

    @admin.action(description="Move to the next step", permissions=["change"])
    def advance_to_next_step(self, request, queryset):
        def advance(incident):
            steps = incident_steps(incident.service_id)
            target = next_step(steps, incident.step)
            if target is None:
                raise ValidationError(f"it is at the last step ({incident.step}).")
            services.incident_advance(incident=incident, step=target, by=request.user)

        self._each(request, queryset, advance, done="moved on")

    @admin.action(description="Resolve now", permissions=["change"])
    def resolve_now(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda incident: services.incident_resolve(incident=incident, by=request.user),
            done="resolved",
        )

    def _each(self, request, queryset, act, *, done):
        """Run ``act`` on each incident on its own; report what worked and what was refused."""
        succeeded = []
        for incident in queryset.order_by("id"):
            try:
                act(incident)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request, f"{incident.number} not {done}: {error_text(exc)}", messages.ERROR
                )
            else:
                succeeded.append(incident.number)
        if succeeded:
            self.message_user(request, f"{', '.join(succeeded)} {done}.", messages.SUCCESS)


from . import admin_postmortems  # noqa: E402,F401  (registers the post-mortem admin)
