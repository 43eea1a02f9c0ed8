"""Staff work tickets here. The admin displays and delegates: every write goes through services.

What a staff member may change is scoped by ``tickets_for_staff``: a tier-N member works
tickets whose current tier is at most N. A ticket they worked (``tickets_worked_by``) stays
readable after it moved past their tier; any other out-of-scope ticket "doesn't exist" for them.
"""

from .canned import CannedReplyAdmin
from .filters import (
    AssigneeFilter,
    PriorityFilter,
    QueueViewFilter,
    ServiceFilter,
    SlaFilter,
    TierFilter,
    sla_state,
)
from .forms import TicketAdminForm
from .rows import MessageAdmin, TicketEventAdmin
from .ticket import TicketAdmin

__all__ = [
    "AssigneeFilter",
    "CannedReplyAdmin",
    "MessageAdmin",
    "PriorityFilter",
    "QueueViewFilter",
    "ServiceFilter",
    "SlaFilter",
    "TicketAdmin",
    "TicketAdminForm",
    "TicketEventAdmin",
    "TierFilter",
    "sla_state",
]
