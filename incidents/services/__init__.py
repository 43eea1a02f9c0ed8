"""Every write to incidents, their steps, updates and post-mortems.

Each function is one transaction that locks the incident row first (``common``), so two staff
acting on the same incident at once take turns and each sees the other's result; emails are
recorded in the outbox inside that transaction and delivered after it commits — except a public
update's, one per subscriber, which are recorded in the background (``incidents.fanout``). Bad
input raises ``ValidationError`` (or ``PermissionDenied``) and changes nothing. The step rules
are in ``incidents.steps``, the post-mortem deadline in ``incidents.deadlines``.

- ``incidents``: open (a draft), publish, edit, link tickets, move through the steps, resolve;
- ``updates``: public updates (status page and subscribers' emails) and internal notes;
- ``postmortems``: write, complete, publish; actions with owners.
"""

from ..runbooks import incident_deadline_done
from .incidents import (
    incident_advance,
    incident_edit,
    incident_link_ticket,
    incident_open,
    incident_publish,
    incident_resolve,
    incident_unlink_ticket,
)
from .postmortems import (
    postmortem_action_add,
    postmortem_action_edit,
    postmortem_complete,
    postmortem_publish,
    postmortem_save,
    postmortem_unpublish,
)
from .updates import MAX_UPDATE_LENGTH, incident_post_update

__all__ = [
    "MAX_UPDATE_LENGTH",
    "incident_advance",
    "incident_deadline_done",
    "incident_edit",
    "incident_link_ticket",
    "incident_open",
    "incident_post_update",
    "incident_publish",
    "incident_resolve",
    "incident_unlink_ticket",
    "postmortem_action_add",
    "postmortem_action_edit",
    "postmortem_complete",
    "postmortem_publish",
    "postmortem_save",
    "postmortem_unpublish",
]
