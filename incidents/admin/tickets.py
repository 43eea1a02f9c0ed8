"""What the ticket page and list gain from incidents, added from here: incidents builds on
tickets, and tickets does not know about incidents (as contracts adds its time inlines).

The ticket page lists the incidents the ticket is linked to, with a link to open one from it;
the ticket list has an action that opens one for the chosen tickets.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from tickets.admin import TicketAdmin

from ..selectors import incidents_of_ticket
from .incidents import incident_add_url


@admin.display(description="incidents")
def incidents_display(modeladmin, obj):
    """The incidents this ticket is linked to, and a link to open one from it."""
    links = format_html_join(
        ", ",
        '<a href="{}">{}</a> ({}, {})',
        (
            (
                reverse("admin:incidents_incident_change", args=[incident.pk]),
                str(incident),
                incident.step,
                "resolved" if incident.resolved_at else "open",
            )
            for incident in incidents_of_ticket(obj)
        ),
    )
    opener = format_html(
        '<a class="open-incident" href="{}">Open an incident from this ticket</a>',
        incident_add_url([obj]),
    )
    return format_html("{} {}", links, opener) if links else opener


@admin.action(description="Open an incident for these tickets", permissions=["change"])
def open_incident(modeladmin, request, queryset):
    """To the incident's add page, prefilled from the tickets (one service at a time)."""
    tickets = list(queryset.select_related("priority").order_by("priority__position", "id"))
    if len({ticket.service_id for ticket in tickets}) != 1:
        modeladmin.message_user(
            request, "Choose tickets of one service to open an incident.", messages.ERROR
        )
        return None
    return HttpResponseRedirect(incident_add_url(tickets))


def extend_ticket_admin():
    """Add the field and the action to ``TicketAdmin`` (once, however often it is called)."""
    if "incidents_display" in TicketAdmin.summary_fields:
        return
    TicketAdmin.incidents_display = incidents_display
    TicketAdmin.summary_fields = [*TicketAdmin.summary_fields, "incidents_display"]
    TicketAdmin.readonly_fields = [*TicketAdmin.readonly_fields, "incidents_display"]
    TicketAdmin.actions = [*TicketAdmin.actions, open_incident]
