"""The ticket change form: what staff may change, and the choices scoped to the ticket."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import TIER_LEVELS, TOP_TIER, tier_group_name
from sla.models import Priority
from sla.selectors import works_service

from ..attachments import validate_uploads
from ..forms import MultipleFileField
from ..models import Ticket
from .common import staff_users

Status = Ticket.Status


class CannedReplySelect(forms.Select):
    """A select of canned replies whose options carry the filled-in text (``data-body``);
    static/js/admin-canned-replies.js inserts it into the reply box. The text is an attribute
    value, escaped by the widget's template, and the script sets it as the textarea's value:
    it is never read as markup."""

    def __init__(self, *args, bodies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.bodies = bodies or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        body = self.bodies.get(str(value))
        if body is not None:
            option["attrs"]["data-body"] = body
        return option

    class Media:
        js = ["js/admin-canned-replies.js"]


class TicketAdminForm(forms.ModelForm):
    """Status, priority and assignee, plus the things staff do that are not fields of a ticket."""

    # Only a helper for the browser: its value is never read.
    canned_reply = forms.CharField(
        required=False,
        widget=CannedReplySelect(choices=[("", "— choose —")]),
        label="Insert a canned reply",
        help_text="Fills the public reply box with the service's text for this ticket; edit "
        "it before saving.",
    )
    public_reply = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="Sent to the customer by email and shown on their ticket page.",
    )
    internal_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Seen by staff only; the customer is never told.",
    )
    reply_attachments = MultipleFileField(
        required=False,
        label="Attach files",
        help_text="Sent with the public reply (or kept with the internal note when there is no "
        "reply); the same types and sizes as customers may attach.",
    )
    escalate = forms.BooleanField(required=False, label="Escalate to the next tier")
    escalate_reason = forms.CharField(
        required=False,
        max_length=250,
        label="Reason for escalating",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = Ticket
        fields = ["status", "priority", "assignee"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ticket = self.instance
        if "priority" in self.fields:
            # The service's current priorities; a retired one stays listed while the ticket
            # still has it, so saving other changes does not fail on it.
            self.fields["priority"].queryset = Priority.objects.filter(
                Q(retired_at__isnull=True) | Q(pk=ticket.priority_id), service=ticket.service_id
            ).order_by("position")
        if "assignee" in self.fields:
            # Staff who can see the ticket: members of its tier or above who work its service,
            # and superusers.
            groups = [tier_group_name(level) for level in TIER_LEVELS if level >= ticket.tier]
            eligible = staff_users().filter(
                Q(is_superuser=True)
                | Q(
                    works_service(ticket.service_id),
                    pk__in=get_user_model().objects.filter(groups__name__in=groups).values("pk"),
                )
            )
            self.fields["assignee"].queryset = (
                get_user_model()
                .objects.filter(Q(pk__in=eligible.values("pk")) | Q(pk=ticket.assignee_id))
                .order_by("username")
            )

    def set_canned_replies(self, replies):
        """``replies``: ``[(id, title, filled-in body)]`` of the ticket's service."""
        choices = [("", "— choose —")] + [(str(pk), title) for pk, title, _ in replies]
        widget = CannedReplySelect(
            choices=choices, bodies={str(pk): body for pk, _, body in replies}
        )
        field = self.fields["canned_reply"]
        field.widget = widget
        if not replies:
            field.help_text = "This service has no canned replies yet (Tickets › Canned replies)."

    def clean_reply_attachments(self):
        return validate_uploads(self.cleaned_data.get("reply_attachments") or [])

    def clean(self):
        data = super().clean()
        files = data.get("reply_attachments") or []
        text = (data.get("public_reply") or "").strip() or (data.get("internal_note") or "").strip()
        if files and not text:
            self.add_error("reply_attachments", "Write a reply or a note to send the files with.")
        if data.get("escalate"):
            if self.instance.tier >= TOP_TIER:
                self.add_error("escalate", "This ticket is already at the top tier.")
            if data.get("status") in (Status.RESOLVED, Status.CLOSED):
                self.add_error("escalate", "A resolved or closed ticket cannot be escalated.")
            if not (data.get("escalate_reason") or "").strip():
                self.add_error("escalate_reason", "Say why: the next tier reads this first.")
        return data
