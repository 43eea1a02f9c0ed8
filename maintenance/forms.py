from django import forms

from sla.models import Service

# What a subscriber hears of a service: (value, label, maintenance?, incidents?).
HEAR = [
    ("both", "Incidents and maintenance", True, True),
    ("incidents", "Incidents only", False, True),
    ("maintenance", "Maintenance only", True, False),
]


class SubscribeForm(forms.Form):
    """Subscribe an address to a service's incident updates, maintenance notices or both (the
    status page shows it)."""

    email = forms.EmailField(label="Email address")
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug", empty_label=None
    )
    hear = forms.ChoiceField(
        label="What to hear",
        choices=[(value, label) for value, label, _, _ in HEAR],
        initial="both",
        required=False,  # a form posted before the choice existed means both
        widget=forms.RadioSelect,
    )

    def topics(self):
        """{"maintenance": bool, "incidents": bool} for the choice made."""
        hear = self.cleaned_data.get("hear") or "both"
        _, _, maintenance, incidents = next(row for row in HEAR if row[0] == hear)
        return {"maintenance": maintenance, "incidents": incidents}


class TopicsForm(forms.Form):
    """What one subscription hears; neither box ticked stops it."""

    maintenance = forms.BooleanField(label="Maintenance notices", required=False)
    incidents = forms.BooleanField(label="Incident updates", required=False)
