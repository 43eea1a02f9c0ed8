"""Admin forms for ticking routine items off and recording drill results.

They check what staff typed (a file's type and size, a time like ``45m``) so a bad input is shown
on the form and nothing is saved; the services check again, as they do for any caller.
"""

from django import forms
from django.core.exceptions import ValidationError

from tickets.attachments import validate_uploads

from . import recovery
from .models import RoutineItem


def _clean_evidence(upload):
    if upload:
        validate_uploads([upload])
    return upload


class MarkDoneFields(forms.Form):
    """What ticking off takes: a note, a file, or both."""

    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="What was done, what was found.",
    )
    evidence = forms.FileField(
        required=False, help_text="A log, a report or a screenshot as evidence (optional)."
    )

    def clean_evidence(self):
        return _clean_evidence(self.cleaned_data.get("evidence"))

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("note") or "").strip() and not data.get("evidence"):
            raise ValidationError("Say what was done, or attach a file as evidence.")
        return data


class RoutineItemForm(forms.ModelForm):
    """The change page: tick the item off and, for a drill, record its results."""

    mark_done = forms.BooleanField(required=False, label="Mark done")
    done_note = forms.CharField(
        required=False,
        label="Note",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="What was done, what was found.",
    )
    done_evidence = forms.FileField(
        required=False,
        label="Evidence",
        help_text="A log, a report or a screenshot (optional when there is a note).",
    )
    recovery_class_choice = forms.ChoiceField(
        required=False,
        label="Recovery class",
        help_text="Which of the plan's recovery targets the drill is held to.",
    )
    rto_input = forms.CharField(
        required=False, label="RTO achieved", help_text="Time to restore service: 45m, 1h30m…"
    )
    rpo_input = forms.CharField(
        required=False, label="RPO achieved", help_text="Data lost, as time: 5m, 0m…"
    )

    class Meta:
        model = RoutineItem
        fields = []

    def __init__(self, *args, recovery_classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        item = self.instance
        if "recovery_class_choice" in self.fields:
            self.fields["recovery_class_choice"].choices = [
                ("", "The plan's overall RTO/RPO"),
                *((name, name) for name in recovery_classes),
            ]
            self.fields["recovery_class_choice"].initial = item.recovery_class
        if "rto_input" in self.fields and item.rto_achieved is not None:
            self.fields["rto_input"].initial = recovery.format_span(item.rto_achieved)
        if "rpo_input" in self.fields and item.rpo_achieved is not None:
            self.fields["rpo_input"].initial = recovery.format_span(item.rpo_achieved)

    def clean_done_evidence(self):
        return _clean_evidence(self.cleaned_data.get("done_evidence"))

    def _clean_time(self, name):
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            return recovery.parse_achieved(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def clean_rto_input(self):
        return self._clean_time("rto_input")

    def clean_rpo_input(self):
        return self._clean_time("rpo_input")

    def clean(self):
        data = super().clean()
        note = (data.get("done_note") or "").strip()
        evidence = data.get("done_evidence")
        if data.get("mark_done"):
            if not note and not evidence and "done_evidence" not in self.errors:
                self.add_error("done_note", "Say what was done, or attach a file as evidence.")
        elif note or evidence:
            self.add_error("mark_done", "Tick “Mark done” to record the note and evidence.")
        return data

    @property
    def results_given(self):
        data = self.cleaned_data
        return data.get("rto_input") is not None or data.get("rpo_input") is not None
