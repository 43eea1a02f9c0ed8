"""Messages and events as lists of their own, read-only and scoped like the tickets."""

from django.contrib import admin
from django.utils.text import Truncator

from portal.admin_pages import ReadOnlyAdminMixin

from ..models import Message, TicketEvent
from ..selectors import tickets_for_staff


class _TicketRowsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only view of rows the services write about tickets, scoped like the tickets.

    Nobody edits them by hand, and a staff member sees only the rows of tickets their tier may
    see.
    """

    show_full_result_count = False
    ordering = ["-id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(ticket__in=tickets_for_staff(user=request.user))
            .select_related(*self.list_select_related)
        )

    @admin.display(description="ticket", ordering="ticket_id")
    def ticket_number(self, obj):
        return obj.ticket.number


@admin.register(Message)
class MessageAdmin(_TicketRowsAdmin):
    """Every message across the tickets a staff member may see, to search the conversations."""

    list_display = ["ticket_number", "author", "internal", "created_at", "excerpt"]
    list_filter = ["internal"]
    list_select_related = ["ticket", "author"]
    search_fields = ["body", "author__email"]
    fields = ["ticket", "author", "internal", "created_at", "body"]

    @admin.display(description="message")
    def excerpt(self, obj):
        return Truncator(obj.body).chars(80)


@admin.register(TicketEvent)
class TicketEventAdmin(_TicketRowsAdmin):
    """The audit trail across tickets: who changed what, and when."""

    list_display = ["created_at", "ticket_number", "kind", "summary", "actor"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["summary"]
    fields = ["ticket", "kind", "summary", "actor", "created_at", "data"]
