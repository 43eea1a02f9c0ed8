"""Inbound messages, for superusers: what arrived, what became of it, the raw message.

Superusers only, as the email outbox (``notifications.admin``): an inbound message is whatever
anyone sent to a support address, for any service and tier, often with a customer's private
text, and it is not yet attached to anything a tier's scope could be checked against. Staff see
what came of a message where it matters, on the ticket.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from core.admin import ReadOnlyAdminMixin
from sla.models import Service

from . import matching
from .models import InboundMessage
from .services import can_open_ticket_from, inbound_open_ticket, inbound_reprocess


def _is_superuser(request):
    return request.user.is_active and request.user.is_superuser


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "via",
        "sender",
        "subject",
        "outcome",
        "reason_excerpt",
        "ticket_link",
    ]
    list_filter = ["outcome", "via"]
    list_select_related = ["ticket"]
    search_fields = ["sender", "subject", "message_id", "recipients"]
    ordering = ["-received_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["process_again", "open_ticket"]
    fields = [
        "message_id",
        "received_at",
        "via",
        "sender",
        "recipients",
        "subject",
        "size",
        "raw_complete",
        "outcome",
        "reason",
        "ticket_link",
        "attempts",
        "processed_at",
        "raw_download",
        "open_ticket_link",
    ]
    readonly_fields = fields

    def has_module_permission(self, request):
        return _is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return _is_superuser(request)

    def has_process_permission(self, request):
        return _is_superuser(request)

    def get_queryset(self, request):
        # The changelist never loads the raw messages (up to 25 MiB each).
        return super().get_queryset(request).defer("raw")

    def get_urls(self):
        return [
            path(
                "<int:pk>/raw/",
                self.admin_site.admin_view(self.raw_view),
                name="inbound_inboundmessage_raw",
            ),
            path(
                "<int:pk>/open-ticket/",
                self.admin_site.admin_view(self.open_ticket_view),
                name="inbound_inboundmessage_open_ticket",
            ),
            *super().get_urls(),
        ]

    def raw_view(self, request, pk):
        if not _is_superuser(request):
            return HttpResponse(status=403)
        message = get_object_or_404(InboundMessage, pk=pk)
        response = HttpResponse(bytes(message.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{message.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @admin.display(description="reason")
    def reason_excerpt(self, obj):
        return Truncator(obj.reason).chars(90)

    @admin.display(description="ticket")
    def ticket_link(self, obj):
        if obj.ticket_id is None:
            return "—"
        url = reverse("admin:tickets_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">#{}</a>', url, obj.ticket_id)

    @admin.display(description="raw message")
    def raw_download(self, obj):
        url = reverse("admin:inbound_inboundmessage_raw", args=[obj.pk])
        label = "download (.eml)" if obj.raw_complete else "download (headers only)"
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.action(description="Process again (refused or pending)", permissions=["process"])
    def process_again(self, request, queryset):
        done = skipped = 0
        for message in queryset.order_by("id"):
            if inbound_reprocess(message=message) is None:
                skipped += 1
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} processed again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: already acted on, ignored on purpose, or only headers kept.",
                messages.WARNING,
            )

    @admin.display(description="open a ticket")
    def open_ticket_link(self, obj):
        if not can_open_ticket_from(obj):
            return "—"
        url = reverse("admin:inbound_inboundmessage_open_ticket", args=[obj.pk])
        return format_html('<a href="{}">Open a ticket from this message…</a>', url)

    @admin.action(description="Open ticket from this message (one)", permissions=["process"])
    def open_ticket(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one message.", messages.WARNING)
            return None
        url = reverse("admin:inbound_inboundmessage_open_ticket", args=[queryset.get().pk])
        return HttpResponseRedirect(url)

    def open_ticket_view(self, request, pk):
        """Pick the customer (an existing account; the sender's address is suggested) and the
        service (the one the mail was addressed to is suggested); optionally give them the
        service. The ticket is opened as if they had sent the mail."""
        if not _is_superuser(request):
            return HttpResponse(status=403)
        message = get_object_or_404(InboundMessage, pk=pk)
        change_url = reverse("admin:inbound_inboundmessage_change", args=[message.pk])
        if not can_open_ticket_from(message):
            self.message_user(
                request,
                "This message already had an effect, or only its headers were kept.",
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        addressed_to = matching.service_for(
            [a.strip().lower() for a in message.recipients.split(",") if a.strip()]
        )
        form = OpenTicketForm(
            request.POST if request.method == "POST" else None,
            initial={"customer_email": message.sender, "service": addressed_to},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                ticket = inbound_open_ticket(
                    message=message,
                    customer=data["customer"],
                    service=data["service"],
                    by=request.user,
                    grant_access=data["grant_access"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(
                    request, f"Opened {ticket.number} from this message.", messages.SUCCESS
                )
                return HttpResponseRedirect(change_url)
        return render(
            request,
            "inbound/admin_open_ticket.html",
            {
                **self.admin_site.each_context(request),
                "title": "Open a ticket from this message",
                "message": message,
                "form": form,
                "opts": self.model._meta,
                "change_url": change_url,
            },
        )


class OpenTicketForm(forms.Form):
    customer_email = forms.EmailField(
        label="Customer",
        help_text="The email address of an existing customer account (create it first if "
        "there is none); the sender's address is suggested.",
    )
    service = forms.ModelChoiceField(queryset=Service.objects.order_by("name"))
    grant_access = forms.BooleanField(
        required=False,
        label="Give this customer the service",
        help_text="Needed when they are not yet a customer of it (as 'add service' does).",
    )

    def clean(self):
        data = super().clean()
        email = data.get("customer_email")
        if email:
            users = get_user_model().objects.filter(email__iexact=email, is_active=True)
            customer = users.order_by("pk").first()
            if customer is None:
                self.add_error("customer_email", "No active account has this address.")
            data["customer"] = customer
        return data
