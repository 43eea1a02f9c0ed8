from datetime import timedelta

from django import forms

from .models import ApiToken

LIFETIMES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “monitoring”.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        help_text="Read: look only. Read and write: also open tickets, reply, change status.",
    )
    lifetime = forms.TypedChoiceField(
        label="Expires after", choices=LIFETIMES, coerce=int, initial=90
    )

    def expires_at(self, now):
        return now + timedelta(days=self.cleaned_data["lifetime"])
