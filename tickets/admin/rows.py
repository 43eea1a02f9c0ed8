"""Messages and events as lists of their own, read-only and scoped like the tickets."""

from django.contrib import admin
from django.utils.text import Truncator

from core.admin import ReadOnlyAdminMixin

from ..models import Message, TicketEvent
from ..selectors import tickets_for_staff
from ..templatetags.staff_time import local_time, staff_zone


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

    def get_list_display(self, request):
        """``created_at`` as the reader reads times: their zone (else the ticket's service's),
        named. The column is built per request, since the zone is the reader's."""

        @admin.display(description="when", ordering="created_at")
        def when(obj):
            return local_time(obj.created_at, staff_zone(request.user, obj.ticket.service))

        return [when if name == "created_at" else name for name in self.list_display]

    def get_object(self, request, object_id, from_field=None):
        row = super().get_object(request, object_id, from_field)
        if row is not None:
            row._staff_zone = staff_zone(request.user, row.ticket.service)
        return row

    @admin.display(description="when")
    def created_at_display(self, obj):
        zone = getattr(obj, "_staff_zone", None) or staff_zone(None, obj.ticket.service)
        return local_time(obj.created_at, zone)


@admin.register(Message)
class MessageAdmin(_TicketRowsAdmin):
    """Every message across the tickets a staff member may see, to search the conversations."""

    list_display = ["ticket_number", "author", "internal", "created_at", "excerpt"]
    list_filter = ["internal"]
    list_select_related = ["ticket__service", "author"]
    search_fields = ["body", "author__email"]
    fields = ["ticket", "author", "internal", "created_at_display", "body"]
    readonly_fields = ["created_at_display"]

    @admin.display(description="message")
    def excerpt(self, obj):
        return Truncator(obj.body).chars(80)


@admin.register(TicketEvent)
class TicketEventAdmin(_TicketRowsAdmin):
    """The audit trail across tickets: who changed what, and when."""

    list_display = ["created_at", "ticket_number", "kind", "summary", "actor"]
    list_filter = ["kind"]
    list_select_related = ["ticket__service", "actor"]
    search_fields = ["summary"]
    fields = ["ticket", "kind", "summary", "actor", "created_at_display", "data"]
    readonly_fields = ["created_at_display"]
