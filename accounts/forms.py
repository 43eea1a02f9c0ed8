"""Account forms. They validate input; writes go through ``accounts.services``."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import NON_FIELD_ERRORS

from . import services
from .selectors import COMMON_TIMEZONES, selectable_timezones


def apply_service_errors(form, error):
    """Show a service's ``ValidationError`` on the form: on its field when the form has one."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        target = field if field in form.fields else None
        if field == NON_FIELD_ERRORS:
            target = None
        for message in errors:
            form.add_error(target, message)


class SignupForm(forms.Form):
    email = forms.EmailField(
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text="We send a link to this address to confirm it is yours.",
    )
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_confirm = forms.CharField(
        label="Password (again)",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        password, confirm = cleaned.get("password"), cleaned.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error("password_confirm", "The two passwords differ.")
        return cleaned


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an email address (staff may still use their username)."""

    username = forms.CharField(
        label="Email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password do not match an active account. Passwords are "
            "case-sensitive; a new account must be verified through the emailed link first."
        ),
    }


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, whose email is made in the background and sent through the outbox.

    ``save`` only hands the address on (``services.user_password_reset_request``): looking it
    up and recording the email happen after the response, so the page takes the same time for
    an address with an account as for one without.
    """

    def save(self, **kwargs):
        services.user_password_reset_request(email=self.cleaned_data["email"])


def _zone_label(name):
    return name.replace("_", " ")


def timezone_choices(current=""):
    """Common zones first, then every Area/City zone, grouped by area; no aliases. A zone
    chosen earlier that is no longer offered stays selectable, so the form still saves."""
    zones = selectable_timezones()
    common = [name for name in COMMON_TIMEZONES if name in zones]
    groups = {}
    for name in zones:
        area = name.partition("/")[0] if "/" in name else "Other"
        groups.setdefault(area, []).append((name, _zone_label(name)))
    choices = [("", "Each service's own time zone")]
    if current and current not in zones:
        choices.append((current, f"{_zone_label(current)} (chosen earlier)"))
    choices.append(("Common", [(name, _zone_label(name)) for name in common]))
    choices += [(f"All of {area}", items) for area, items in sorted(groups.items())]
    return choices


class ProfileForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Ticket and maintenance times are shown in this zone.",
        widget=forms.Select(attrs={"data-timezone-picker": ""}),
    )

    def __init__(self, *args, current="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices(current)
