from django import forms

from sla.models import Service


class SubscribeForm(forms.Form):
    """Subscribe an address to a service's maintenance notices (the status page shows it)."""

    email = forms.EmailField(label="Email address")
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug", empty_label=None
    )
