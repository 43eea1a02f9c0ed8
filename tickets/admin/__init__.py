"""Staff work tickets here. The admin displays and delegates: every write goes through services.

What a staff member sees is scoped by ``tickets_for_staff``: a tier-N member sees tickets whose
current tier is at most N, so an out-of-scope ticket "doesn't exist" for them in every view.
"""

from .filters import AssigneeFilter, PriorityCodeFilter, SlaFilter, TierFilter, sla_state
from .forms import TicketAdminForm
from .rows import MessageAdmin, TicketEventAdmin
from .ticket import TicketAdmin

__all__ = [
    "AssigneeFilter",
    "MessageAdmin",
    "PriorityCodeFilter",
    "SlaFilter",
    "TicketAdmin",
    "TicketAdminForm",
    "TicketEventAdmin",
    "TierFilter",
    "sla_state",
]
