"""Staff open and work incidents and write post-mortems here; every write goes through services.

- ``incidents``: the incident list and page — its steps (who moved it, when) and updates, public
  and internal, and the fields to move it on, resolve it and post an update. Opening one from
  tickets goes through the ticket admin's "Open an incident" action, which lands on the add page
  prefilled by ``incident_add_url`` (service, severity, title, tickets). The add page chooses
  the incident type (runbook); the page lists its deadlines with a "Done" button each.
- ``postmortems``: the post-mortem page, with its actions and owners inline; complete, publish.
- ``base``: what both share — a refused service call rolls the whole save back and says why.
- ``tickets``: the ticket page's incident links and the ticket list's "Open an incident"
  action, added to ``TicketAdmin`` from here (tickets does not know about incidents).
"""

from . import incidents, postmortems  # noqa: F401 (registers the model admins)
from .incidents import incident_add_url
from .tickets import extend_ticket_admin

extend_ticket_admin()

__all__ = ["incident_add_url"]
