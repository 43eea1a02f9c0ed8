"""The admin's forms: an incident's own fields plus what staff do to it, and the post-mortem's.

They only check what the page can know (choices of the right service); the services decide
the rest and say why when they refuse.
"""

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db.models import Q

from sla.models import Priority

from ..models import Impact, Incident, Postmortem, PostmortemAction, UpdateStatus
from ..selectors import incident_steps
from .base import staff_users


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
        help_text="Shown on /status/ and emailed to the service's subscribers and customers "
        "— for a draft, once the incident is published.",
    )
    update_status = forms.ChoiceField(
        required=False,
        choices=UpdateStatus.choices,
        label="The update says we are",
        help_text="Statuspage's incident states, shown with the update.",
    )
    publish = forms.BooleanField(
        required=False,
        label="Publish this incident",
        help_text="Check the preview above: that is what goes on /status/, the JSON and the "
        "feeds, and its public updates are emailed to subscribers (once each).",
    )
    internal_note = forms.CharField(
        required=False,
        widget=forms.Textarea({"rows": 3, "cols": 80}),
        help_text="Seen by staff only; never shown or sent.",
    )

    class Meta:
        model = Incident
        fields = [
            "service",
            "severity",
            "title",
            "impact",
            "started_at",
            "owner",
            "tickets",
            "runbook",
        ]

    # Set by the admin per request (``IncidentAdmin.get_form``): may this member publish?
    can_publish = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        incident = self.instance
        if "impact" in self.fields:
            # No impact is chosen for staff (not the model's default): a new incident says
            # nothing until they say what it does (it used to open as a red "Outage").
            self.fields["impact"] = forms.ChoiceField(
                choices=[("", "— choose —"), *Impact.choices],
                label="Impact on the service",
                help_text="Partial and major outages count as downtime in the uptime report.",
            )
        if "update_status" in self.fields and incident.pk:
            latest = incident.updates.filter(public=True).order_by("-created_at", "-id").first()
            self.fields["update_status"].initial = (
                latest.status if latest else UpdateStatus.INVESTIGATING
            )
        if not incident.pk or incident.published_at is not None or not self.can_publish:
            self.fields.pop("publish", None)
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
        if "runbook" in self.fields:
            # Chosen when the incident is opened (its deadlines run from detection), never after.
            # The choices are the admin's (``IncidentAdmin.formfield_for_foreignkey``: active
            # runbooks of the member's services).
            runbook = self.fields["runbook"]
            runbook.label_from_instance = lambda r: f"{r.service.name}: {r.title} ({r.name})"
            runbook.label = "Incident type (runbook)"
            runbook.help_text = (
                "The plan's procedure for this type of incident: its roles are told at once and "
                "its deadlines start from the detection time. Leave empty for none."
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
            for name in ("move_to", "step_note", "resolved_at_input", "update_status"):
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
        runbook = data.get("runbook")
        if service is not None and runbook is not None and runbook.service_id != service.pk:
            self.add_error("runbook", f"Choose one of {service.name}'s runbooks.")
        return data


class PostmortemActionForm(forms.ModelForm):
    done = forms.BooleanField(required=False)

    class Meta:
        model = PostmortemAction
        fields = ["description", "owner", "due_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()
        self.fields["done"].initial = self.instance.pk is not None and bool(self.instance.done_at)


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
