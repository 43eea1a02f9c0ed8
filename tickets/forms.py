"""The customer's ticket forms. They validate input; writes go through ``tickets.services``."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from sla.models import Priority, Service

from .attachments import validate_uploads
from .limits import validate_text_size
from .models import Ticket
from .selectors import customer_services_with_priorities, ticket_cc_candidates


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's FileField cleans one file only)."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            files = []
        elif isinstance(data, (list, tuple)):
            files = [super(MultipleFileField, self).clean(item, initial) for item in data]
        else:
            files = [super().clean(data, initial)]
        files = [f for f in files if f]
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        return files


def _attachments_help():
    # Built per form, not at import, so it follows the settings in force.
    return (
        f"Up to {settings.ATTACHMENT_MAX_FILES} files of at most "
        f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)} each; accepted types: "
        f"{', '.join(sorted(settings.ATTACHMENT_ALLOWED_EXTENSIONS))}."
    )


class TicketForm(forms.Form):
    follow_up = forms.IntegerField(required=False, widget=forms.HiddenInput)
    service = forms.ModelChoiceField(queryset=Service.objects.none(), empty_label="Choose…")
    priority = forms.ModelChoiceField(queryset=Priority.objects.none(), empty_label="Choose…")
    subject = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened, what you expected, and how to reproduce it.",
        validators=[validate_text_size],
    )
    attachments = MultipleFileField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["attachments"].help_text = _attachments_help()
        self.services = services = customer_services_with_priorities(user=user)
        # The queryset validates a posted choice; the options come from the list already read.
        self.fields["service"].queryset = Service.objects.filter(memberships__customer=user)
        self.fields["service"].choices = [("", "Choose…")] + [(s.pk, s.name) for s in services]
        self.fields["priority"].queryset = Priority.objects.filter(
            service__memberships__customer=user, retired_at__isnull=True
        )
        # One select, grouped by service, so each priority reads as its plan defines it.
        self.fields["priority"].choices = [("", "Choose…")] + [
            (service.name, [(p.pk, p.label) for p in service.priorities.all()])
            for service in services
        ]
        if len(services) == 1:
            self.fields["service"].initial = services[0].pk
        self.fields[
            "priority"
        ].help_text = "Pick the priority of the chosen service that matches the impact."

    def clean_attachments(self):
        # A refused file is named on this field; the rest of the form is kept as typed.
        return validate_uploads(self.cleaned_data["attachments"])

    def clean(self):
        cleaned = super().clean()
        service, priority = cleaned.get("service"), cleaned.get("priority")
        if service and priority and priority.service_id != service.pk:
            self.add_error("priority", f"Choose one of the priorities of {service.name}.")
        # The hourly limit is the service's: counted under a lock, where it cannot race.
        return cleaned


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 5}),
        validators=[validate_text_size],
    )
    attachments = MultipleFileField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachments_help()

    def clean_attachments(self):
        # A refused file is named on this field; the rest of the form is kept as typed.
        return validate_uploads(self.cleaned_data["attachments"])


class StatusForm(forms.Form):
    """What a customer may ask of a ticket's status; the service decides whether it is allowed."""

    status = forms.ChoiceField(
        choices=[
            (Ticket.Status.CLOSED, "Close"),
            (Ticket.Status.OPEN, "Reopen"),
        ]
    )


# Natural order, 1 (worst) to 5 (best); each star's label says what it means.
RATING_LABELS = {1: "Very poor", 2: "Poor", 3: "Fair", 4: "Good", 5: "Excellent"}


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How did we do?",
        coerce=int,
        choices=[(n, f"{n} star{'s' if n > 1 else ''}: {RATING_LABELS[n]}") for n in range(1, 6)],
        widget=forms.RadioSelect,
        help_text="1 star is very poor, 5 stars excellent.",
    )
    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Comment (optional)",
        max_length=2000,
    )


class CcForm(forms.Form):
    """A colleague of the customer's organisation to CC on the ticket."""

    user = forms.ModelChoiceField(
        queryset=None, label="Colleague", empty_label="Choose a colleague…"
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = ticket_cc_candidates(ticket=ticket)
        self.fields["user"].label_from_instance = lambda user: user.email


class TicketFilterForm(forms.Form):
    """The filters of "My tickets", read from the query string."""

    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), ("active", "Active")] + list(Ticket.Status.choices),
    )
    service = forms.ChoiceField(required=False, choices=[("", "Any service")])
    q = forms.CharField(required=False, label="Search", max_length=200)

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Any service")] + [
            (service.slug, service.name) for service in services
        ]

    def filters(self):
        """The selector's keyword arguments; an invalid filter is ignored rather than fatal."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"] or None,
            "service": data["service"] or None,
            "query": data["q"].strip() or None,
        }
