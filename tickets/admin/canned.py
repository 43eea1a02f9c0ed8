"""Canned replies: each service's texts staff start a reply from, edited here."""

from django.contrib import admin
from django.utils.text import Truncator

from sla.admin_scoping import ServiceScopedAdminMixin

from ..canned import PLACEHOLDERS
from ..models import CannedReply
from .filters import ServiceFilter


@admin.register(CannedReply)
class CannedReplyAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "service", "position", "excerpt"]
    list_filter = [ServiceFilter]
    list_select_related = ["service"]
    search_fields = ["title", "body"]
    ordering = ["service__name", "position", "title"]
    fields = ["service", "title", "body", "position"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["body"].help_text = (
            "Placeholders, filled in for the ticket when staff insert the reply: "
            + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            + ". Times are shown in the reader's zone, with its name."
        )
        return form

    @admin.display(description="text")
    def excerpt(self, obj):
        return Truncator(obj.body).chars(80)
