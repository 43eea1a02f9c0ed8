"""The post-mortem page: summary, timeline, root cause, actions with owners; complete, publish.

Registered from ``incidents.admin``. Writes go through ``incidents.services``; a refusal
anywhere rolls the whole save back and says why.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .admin import error_text, staff_users
from .models import Incident, Postmortem, PostmortemAction


class PostmortemActionForm(forms.ModelForm):
    done = forms.BooleanField(required=False)

    class Meta:
        model = PostmortemAction
        fields = ["description", "owner", "due_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()
        self.fields["done"].initial = self.instance.pk is not None and bool(self.instance.done_at)


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


class PostmortemForm(forms.ModelForm):
    complete = forms.BooleanField(
        required=False,
        label="Mark as completed",
        help_text="The reminders stop, and the incident moves to its review step.",
    )
    published = forms.BooleanField(
        required=False,
        label="Published on /status/",
        help_text="Summary, timeline, root cause and the actions (without owners) are public.",
    )

    class Meta:
        model = Postmortem
        fields = ["incident", "summary", "timeline", "root_cause"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        postmortem = self.instance
        if postmortem.pk:
            self.fields.pop("incident", None)
            self.fields["published"].initial = postmortem.published_at is not None
            if postmortem.completed_at:
                self.fields.pop("complete")
        else:
            self.fields["incident"].queryset = (
                Incident.objects.filter(postmortem__isnull=True)
                .select_related("service")
                .order_by("-started_at", "-id")
            )
            self.fields.pop("published")


class PostmortemStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("draft", "Draft"), ("completed", "Completed"), ("published", "Published")]

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(completed_at__isnull=True)
        if self.value() == "completed":
            return queryset.filter(completed_at__isnull=False, published_at__isnull=True)
        if self.value() == "published":
            return queryset.filter(published_at__isnull=False)
        return queryset


@admin.register(Postmortem)
class PostmortemAdmin(admin.ModelAdmin):
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
        if obj.published_at:
            return "published"
        return "completed" if obj.completed_at else "draft"

    @admin.display(description="incident")
    def incident_link(self, obj):
        url = reverse("admin:incidents_incident_change", args=[obj.incident_id])
        return format_html('<a href="{}">{}</a>', url, str(obj.incident))

    # --- saving ----------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        try:
            with transaction.atomic():
                self._save(request, obj, form, change)
        except (ValidationError, PermissionDenied) as exc:
            self._fail(request, exc)

    def _save(self, request, obj, form, change):
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
        for formset in formsets:
            # What formset.save() would have set: the admin's change message reads these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if getattr(request, "_postmortem_admin_failed", False):
            return
        try:
            with transaction.atomic():
                for formset in formsets:
                    self._save_actions(request, form.instance, formset)
        except (ValidationError, PermissionDenied) as exc:
            self._fail(request, exc)

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

    def _fail(self, request, exc):
        # The whole save goes: the admin's view runs in one transaction.
        transaction.set_rollback(True)
        request._postmortem_admin_failed = True
        self.message_user(request, f"Nothing was saved: {error_text(exc)}", messages.ERROR)

    def log_addition(self, request, obj, message):
        if getattr(request, "_postmortem_admin_failed", False):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if getattr(request, "_postmortem_admin_failed", False):
            return None
        return super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_postmortem_admin_failed", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_postmortem_admin_failed", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Publish on /status/", permissions=["change"])
    def publish(self, request, queryset):
        self._each(request, queryset, services.postmortem_publish, done="published")

    @admin.action(description="Take off /status/", permissions=["change"])
    def unpublish(self, request, queryset):
        self._each(request, queryset, services.postmortem_unpublish, done="taken off /status/")

    def _each(self, request, queryset, act, *, done):
        succeeded = []
        for postmortem in queryset.select_related("incident").order_by("id"):
            try:
                act(incident=postmortem.incident, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request,
                    f"Post-mortem of {postmortem.incident.number} not {done}: {error_text(exc)}",
                    messages.ERROR,
                )
            else:
                succeeded.append(postmortem.incident.number)
        if succeeded:
            self.message_user(
                request, f"Post-mortems of {', '.join(succeeded)} {done}.", messages.SUCCESS
            )
