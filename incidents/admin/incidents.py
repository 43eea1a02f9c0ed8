"""The incident list and page: steps and updates inline, and every change made through services.

Incidents are every tier's business, so every staff member sees every incident of the services
they work (all, unless limited to some); the tickets linked to one are scoped like tickets
everywhere (a member sees, links and unlinks only the tickets of their tiers and services, and
is told how many others are linked).
"""

import re
from datetime import UTC

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from core.admin import REFUSALS, ReadOnlyInline, error_text
from sla.admin_scoping import ServiceScopedAdminMixin
from sla.selectors import limit_to_staff_services
from tickets.selectors import tickets_for_staff

from .. import services
from ..models import Incident, IncidentStepRecord, IncidentUpdate, Runbook
from ..selectors import incident_steps, public_updates_prefetch
from ..steps import next_step
from .base import ServiceWritesAdmin
from .filters import IncidentStateFilter, PublishedFilter, SeverityFilter, StepFilter
from .forms import IncidentAdminForm

# "INC-12", "#12" and "12" all name incident 12.
_NUMBER = re.compile(r"(?:INC-|#)?\s*([0-9]{1,18})", re.IGNORECASE)


def incident_add_url(tickets):
    """The incident add page prefilled from tickets of one service (most urgent first): its
    service, the first ticket's priority as severity, all linked, and a neutral title.

    The title is public (``/status/``, ``status.json``, every subscriber's email) while a
    ticket's subject and description are the customer's private words: nothing public is
    prefilled from them, so saving the page as it opens discloses nothing.
    """
    first = tickets[0]
    query = urlencode(
        {
            "service": first.service_id,
            "severity": first.priority_id,
            "title": f"{first.service.name}: degraded service"[:200],
            "tickets": ",".join(str(ticket.pk) for ticket in tickets),
        }
    )
    return f"{reverse('admin:incidents_incident_add')}?{query}"


class StepRecordInline(ReadOnlyInline):
    model = IncidentStepRecord
    verbose_name = "step"
    verbose_name_plural = "steps (who moved the incident, and when)"
    fields = ["step", "at", "by", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The incident too: each row's label (__str__) names it.
        return super().get_queryset(request).select_related("by", "incident").order_by("at", "id")


class UpdateInline(ReadOnlyInline):
    model = IncidentUpdate
    verbose_name = "update"
    verbose_name_plural = "updates (public ones are on /status/ and emailed to subscribers)"
    fields = ["created_at", "visibility", "author", "body", "emails"]
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

    @admin.display(description="emails")
    def emails(self, obj):
        """How far the background fan-out (``incidents.fanout``) has come: read from the
        update's own counters, so the page costs the same whatever the subscribers."""
        if not obj.public:
            return "—"
        if obj.emails_pending:
            return format_html(
                '<span class="incident-emails-pending">{}</span>',
                f"being sent: {obj.emails_recorded:,} recorded so far",
            )
        if obj.emails_done_at is None:  # posted before the counts were kept
            return "sent to the subscribers"
        return f"{obj.emails_recorded:,} recorded, delivered by the outbox"


@admin.register(Incident)
class IncidentAdmin(ServiceScopedAdminMixin, ServiceWritesAdmin):
    form = IncidentAdminForm
    list_display = [
        "number_display",
        "title",
        "service",
        "severity_display",
        "step",
        "public_state",
        "impact",
        "started_at",
        "resolved_at",
        "owner",
        "postmortem_state",
    ]
    list_display_links = ["number_display", "title"]
    list_filter = [
        "service",
        PublishedFilter,
        SeverityFilter,
        StepFilter,
        "impact",
        IncidentStateFilter,
    ]
    list_select_related = ["service", "severity", "owner", "postmortem"]
    search_fields = ["title"]
    search_help_text = "Incident number (INC-12, #12 or 12) or words of the title."
    ordering = ["-started_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    autocomplete_fields = ["tickets"]
    inlines = [StepRecordInline, UpdateInline]
    actions = ["publish_incidents", "advance_to_next_step", "resolve_now"]
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
        "published_at",
        "published_by",
        "public_preview",
    ]

    # --- scope and permissions -----------------------------------------------------------

    def has_publish_permission(self, request, obj=None):
        return request.user.has_perm("incidents.publish_incident")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The form shows "Publish" only to members who may (the service checks again).
        return type(form.__name__, (form,), {"can_publish": self.has_publish_permission(request)})

    def has_delete_permission(self, request, obj=None):
        # An incident is a record of downtime (the uptime report counts it): not deleted lightly.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "tickets":
            # Only tickets the member may see can be linked (tickets are tier-scoped).
            kwargs["queryset"] = tickets_for_staff(user=request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "runbook":
            # The active runbooks of the services the member works.
            kwargs["queryset"] = limit_to_staff_services(
                Runbook.objects.filter(retired_at__isnull=True)
                .select_related("service")
                .order_by("service__name", "position", "name"),
                user=request.user,
                field="service",
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- changelist ----------------------------------------------------------------------

    @admin.display(description="number", ordering="id")
    def number_display(self, obj):
        return obj.number

    @admin.display(description="public", ordering="published_at")
    def public_state(self, obj):
        if obj.published_at is None:
            return format_html('<strong class="incident-draft">{}</strong>', "draft")
        return "published"

    @admin.display(description="severity", ordering="severity__code")
    def severity_display(self, obj):
        return obj.severity.code

    @admin.display(description="post-mortem")
    def postmortem_state(self, obj):
        postmortem = getattr(obj, "postmortem", None)
        if postmortem is not None and postmortem.state != "draft":
            return postmortem.state
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
            fields = [
                "service",
                "severity",
                "runbook",
                "title",
                "impact",
                "started_at",
                "owner",
                "tickets",
            ]
            return [
                (
                    None,
                    {
                        "fields": fields,
                        "description": "A new incident is a draft: nothing is public until a "
                        "member allowed to publish (Tier 2 and 3) publishes it.",
                    },
                )
            ]
        publishing = ["public_preview", ("published_at", "published_by")]
        if obj.published_at is None and self.has_publish_permission(request):
            publishing.append("publish")
        return [
            (
                None,
                {
                    "fields": [
                        ("number_display", "service"),
                        "title",
                        ("severity", "impact"),
                        ("started_at", "owner"),
                        ("step", "resolved_at"),
                        "tickets",
                        "tickets_out_of_scope",
                    ]
                },
            ),
            (
                "Public: draft until published"
                if obj.published_at is None
                else "Public: published",
                {"fields": publishing},
            ),
            (
                "Runbook: deadlines from detection",
                {"fields": ["runbook", "deadline_list"]},
            ),
            ("Move it on", {"fields": ["move_to", "step_note", "resolved_at_input"]}),
            (
                "Post an update",
                {"fields": ["public_update", "update_status", "internal_note"]},
            ),
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
        # The service of an incident is what it is: severity and tickets depend on it. Its
        # runbook too: the deadlines it started run from detection.
        return [*self.readonly_fields, "service", "runbook", "deadline_list"]

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
        return format_html('<a href="{}">Open the post-mortem</a> ({})', url, postmortem.state)

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

    def write(self, request, obj, form, change):
        if change:
            self._apply_changes(request, obj, form)
        else:
            self._open(request, obj, form)

    def _open(self, request, obj, form):
        data = form.cleaned_data
        incident = services.incident_open(
            service=data["service"],
            severity=data["severity"],
            title=data["title"],
            by=request.user,
            impact=data["impact"],
            started_at=data.get("started_at"),
            tickets=list(data.get("tickets") or ()),
            owner=data.get("owner"),
            runbook=data.get("runbook"),
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
            for name in ("title", "severity", "impact", "started_at", "owner")
            if name in changed and data.get(name) is not None
        }
        if edits:
            services.incident_edit(incident=current, by=user, **edits)
        if "tickets" in changed:
            self._relink(request, current, data.get("tickets") or ())
        if data.get("publish"):
            # Before the update: an update posted with the publishing goes out as published.
            services.incident_publish(incident=current, by=user)
            request._incidents_published = True
        if (data.get("public_update") or "").strip():
            update = services.incident_post_update(
                incident=current,
                body=data["public_update"],
                public=True,
                by=user,
                status=data.get("update_status") or None,
            )
            # Said after the save commits (``response_change``): a refusal later in this save
            # rolls the update back, and then nothing is being sent.
            request._incidents_public_update_posted = "sent" if update.emails_pending else "held"
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

    def response_change(self, request, obj):
        posted = getattr(request, "_incidents_public_update_posted", None)
        if posted and not self.refused(request):
            if posted == "held":
                text = (
                    "The incident is a draft: the public update is held. It goes on /status/ "
                    "and to the subscribers when the incident is published."
                )
            else:
                text = (
                    "The public update is on /status/. Its emails to the service's subscribers "
                    "are being recorded in the background, a batch at a time, and delivered "
                    "from the outbox; the updates list below shows how many are recorded so far."
                )
            self.message_user(request, text, messages.INFO)
        if getattr(request, "_incidents_published", False) and not self.refused(request):
            self.message_user(
                request,
                "Published: the incident is on /status/, in the JSON and the feeds; its public "
                "updates are being emailed to the service's subscribers, once each.",
                messages.SUCCESS,
            )
        return super().response_change(request, obj)

    # --- runbook deadlines: shown with their state, each marked done by its own button -----

    @admin.display(description="deadlines")
    def deadline_list(self, obj):
        """Each deadline of the incident's runbook: when it is due, its state, and a "Done"
        button. The button posts the page's form (with its CSRF token) to the deadline's own
        URL (``formaction``), so nothing else on the page is saved by it."""
        if obj.pk is None:
            return "—"
        rows = list(obj.deadlines.select_related("done_by").order_by("due_at", "id"))
        if not rows:
            return "No runbook deadlines."
        now = timezone.now()
        return format_html(
            '<table class="incident-deadlines"><thead><tr><th>deadline</th><th>due (UTC)</th>'
            "<th>state</th><th></th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        row.name,
                        f"{row.due_at.astimezone(UTC):%Y-%m-%d %H:%M}",
                        self._deadline_state(row, now),
                        self._deadline_button(obj, row),
                    )
                    for row in rows
                ),
            ),
        )

    @staticmethod
    def _deadline_state(row, now):
        if row.done_at is not None:
            by = f" by {row.done_by.get_username()}" if row.done_by else ""
            return format_html(
                '<span class="incident-deadline-done">done {} UTC{}</span>',
                f"{row.done_at.astimezone(UTC):%Y-%m-%d %H:%M}",
                by,
            )
        if row.due_at <= now:
            return format_html('<strong class="incident-deadline-overdue">{}</strong>', "overdue")
        if row.reminder_at is not None:
            return f"open (next reminder {row.reminder_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
        return "open"

    def _deadline_button(self, incident, row):
        if row.done_at is not None:
            return ""
        url = reverse(
            f"{self.admin_site.name}:incidents_incident_deadline_done",
            args=[incident.pk, row.pk],
        )
        return format_html(
            '<button type="submit" class="button" formaction="{}" formnovalidate '
            'name="deadline" value="{}">Done</button>',
            url,
            row.pk,
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/deadlines/<int:deadline_id>/done/",
                self.admin_site.admin_view(self.deadline_done_view),
                name="incidents_incident_deadline_done",
            ),
            *super().get_urls(),
        ]

    def deadline_done_view(self, request, object_id, deadline_id):
        """POST: the deadline is met (``incident_deadline_done``); its reminders stop. Only a
        member who may change the incident (of their services) can say so."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        incident = self.get_object(request, object_id)
        if incident is None:
            raise Http404("No such incident.")
        if not self.has_change_permission(request, incident):
            raise PermissionDenied
        deadline = incident.deadlines.filter(pk=deadline_id).first()
        if deadline is None:
            raise Http404("No such deadline.")
        try:
            deadline = services.incident_deadline_done(deadline=deadline, by=request.user)
        except REFUSALS as exc:
            self.message_user(request, f"Not marked done: {error_text(exc)}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"{deadline.name}: marked done; its reminders stop.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:incidents_incident_change", args=[incident.pk])
        )

    @admin.display(description="what the public will see")
    def public_preview(self, obj):
        """Exactly what /status/ shows of this incident once published (the same template),
        with its public updates — never the internal notes."""
        if obj.pk is None:
            return "—"
        incident = (
            Incident.objects.select_related("service", "severity")
            .prefetch_related(public_updates_prefetch())
            .get(pk=obj.pk)
        )
        return render_to_string(
            "incidents/_public_incident.html", {"incident": incident, "preview": True}
        )

    # --- actions -------------------------------------------------------------------------

    @admin.action(description="Publish (status page, feeds, subscribers)", permissions=["publish"])
    def publish_incidents(self, request, queryset):
        self.act_on_each(
            request,
            queryset.order_by("id"),
            lambda incident: services.incident_publish(incident=incident, by=request.user),
            done="published",
        )

    @admin.action(description="Move to the next step", permissions=["change"])
    def advance_to_next_step(self, request, queryset):
        def advance(incident):
            steps = incident_steps(incident.service_id)
            target = next_step(steps, incident.step)
            if target is None:
                raise ValidationError(f"it is at the last step ({incident.step}).")
            services.incident_advance(incident=incident, step=target, by=request.user)

        self.act_on_each(request, queryset.order_by("id"), advance, done="moved on")

    @admin.action(description="Resolve now", permissions=["change"])
    def resolve_now(self, request, queryset):
        self.act_on_each(
            request,
            queryset.order_by("id"),
            lambda incident: services.incident_resolve(incident=incident, by=request.user),
            done="resolved",
        )
