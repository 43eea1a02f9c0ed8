"""Staff manage organisations and their contracts, log time on tickets and read the month's use.

The admin displays and delegates: every write goes through ``contracts.services``. Time is
logged on the ticket's own page (``ticket_time``, added to ``TicketAdmin`` below); the time-entry
list is scoped like the tickets, so a staff member sees the time of the tickets their tier may
see. Organisations are read by every tier (view permission) and changed by those given the change
permission (superusers by default): a contract is a commercial matter.
"""

from tickets.admin import TicketAdmin

from . import organizations, time_entries  # noqa: F401 (registers the model admins)
from .ticket_time import TimeEntryInline, TimeEntryLogInline

# The ticket page shows and logs the time spent on it. Added from here: contracts builds on
# tickets, and tickets does not know about contracts.
TicketAdmin.inlines = [*TicketAdmin.inlines, TimeEntryInline, TimeEntryLogInline]

__all__ = ["TimeEntryInline", "TimeEntryLogInline"]
