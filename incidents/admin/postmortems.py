"""The post-mortem page: summary, timeline, root cause, actions with owners; complete, publish.

Writes go through ``incidents.services``; a refusal anywhere — the post-mortem or one of its
actions — rolls the whole save back and says why.
"""

from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from core.admin import REFUSALS
from sla.admin_scoping import ServiceScopedAdminMixin

from .. import services
from ..models import Postmortem, PostmortemAction
from .base import ServiceWritesAdmin
from .filters import PostmortemStateFilter
from .forms import PostmortemActionForm, PostmortemForm


class PostmortemActionInline(admin.TabularInline):
    model = PostmortemAction
    form = PostmortemActionForm
    extra = 1
    # An action is part of the record: reword it or mark it done rather than delete it.
    can_delete = False
    fields = ["description", "owner", "due_on", "done", "done_at"]
    readonly_fields = ["done_at"]
    verbose_name_plural = "actions (each with the staff member who owns it)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")


@admin.register(Postmortem)
class PostmortemAdmin(ServiceScopedAdminMixin, ServiceWritesAdmin):
    service_field = "incident__service"
    form = PostmortemForm
    inlines = [PostmortemActionInline]
    list_display = [
        "incident_number",
        "incident_title",
        "service",
        "due",
        "state",
        "completed_at",
        "published_at",
    ]
    list_select_related = ["incident__service"]
    list_filter = [PostmortemStateFilter, "incident__service"]
    search_fields = ["incident__title", "summary"]
    ordering = ["-id"]
    actions = ["publish", "unpublish"]
    readonly_fields = [
        "incident_link",
        "due",
        "completed_at",
        "completed_by",
        "published_at",
        "published_by",
        "updated_at",
    ]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("incident__service", "completed_by", "published_by")
        )

    def get_fieldsets(self, request, obj=None):
        writing = ["summary", "timeline", "root_cause"]
        if obj is None:
            return [(None, {"fields": ["incident", *writing, "complete"]})]
        state = ["completed_at", "completed_by"] if obj.completed_at else ["complete"]
        return [
            (None, {"fields": [("incident_link", "due"), *writing]}),
            ("State", {"fields": [*state, "published", ("published_at", "published_by")]}),
        ]

    @admin.display(description="incident", ordering="incident_id")
    def incident_number(self, obj):
        return obj.incident.number

    @admin.display(description="title")
    def incident_title(self, obj):
        return obj.incident.title

    @admin.display(description="service")
    def service(self, obj):
        return obj.incident.service.name

    @admin.display(description="due", ordering="incident__postmortem_due_at")
    def due(self, obj):
        due = obj.incident.postmortem_due_at
        return f"{due:%Y-%m-%d %H:%M} UTC" if due else "—"

    @admin.display(description="state")
    def state(self, obj):
        return obj.state

    @admin.display(description="incident")
    def incident_link(self, obj):
        url = reverse("admin:incidents_incident_change", args=[obj.incident_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.incident))

    # --- saving ----------------------------------------------------------------------------

    def write(self, request, obj, form, change):
        data, user = form.cleaned_data, request.user
        incident = obj.incident if change else data["incident"]
        postmortem = services.postmortem_save(
            incident=incident,
            by=user,
            summary=data.get("summary", ""),
            timeline=data.get("timeline", ""),
            root_cause=data.get("root_cause", ""),
        )
        obj.pk = postmortem.pk
        obj.incident = incident
        obj._state.adding = False
        if data.get("complete"):
            services.postmortem_complete(incident=incident, by=user)
        if "published" in form.changed_data:
            if data["published"]:
                services.postmortem_publish(incident=incident, by=user)
            else:
                services.postmortem_unpublish(incident=incident, by=user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if self.refused(request):
            return
        try:
            with transaction.atomic():
                for formset in formsets:
                    self._save_actions(request, form.instance, formset)
        except REFUSALS as exc:
            self.refuse(request, exc)

    def _save_actions(self, request, postmortem, formset):
        for action_form in formset.forms:
            if not action_form.has_changed() or not action_form.is_valid():
                continue
            data = action_form.cleaned_data
            if action_form.instance.pk is None:
                action = services.postmortem_action_add(
                    postmortem=postmortem,
                    by=request.user,
                    description=data["description"],
                    owner=data.get("owner"),
                    due_on=data.get("due_on"),
                )
                if data.get("done"):
                    services.postmortem_action_edit(action=action, by=request.user, done=True)
                continue
            services.postmortem_action_edit(
                action=action_form.instance,
                by=request.user,
                description=data["description"],
                owner=data.get("owner"),
                clear_owner=data.get("owner") is None,
                due_on=data.get("due_on"),
                clear_due_on=data.get("due_on") is None,
                done=data.get("done"),
            )

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Publish on /status/", permissions=["change"])
    def publish(self, request, queryset):
        self._each_incident(request, queryset, services.postmortem_publish, done="published")

    @admin.action(description="Take off /status/", permissions=["change"])
    def unpublish(self, request, queryset):
        self._each_incident(
            request, queryset, services.postmortem_unpublish, done="taken off /status/"
        )

    def _each_incident(self, request, queryset, act, *, done):
        incidents = [
            postmortem.incident for postmortem in queryset.select_related("incident").order_by("id")
        ]
        self.act_on_each(
            request,
            incidents,
            lambda incident: act(incident=incident, by=request.user),
            done=done,
            one="Post-mortem of {}",
            many="Post-mortems of {}",
        )
