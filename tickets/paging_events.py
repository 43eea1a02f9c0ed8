"""Pages (``paging``) of ticket events, recorded inside the transaction of the event:

- ``ticket.created`` when a ticket is opened (web, API or email), in its start tier;
- ``ticket.escalated`` when it moves up a tier (the SLA sweep or staff), in the new tier;
- ``sla.warned`` at a timer's "at risk" step, ``sla.breached`` at its breach (in the tier the
  ticket was in when it breached).

Each is keyed by what caused it (the ticket, or the SLA step row the sweep inserted exactly
once), so it is recorded once per destination however often the code runs. PagerDuty's
``dedup_key`` is ``ticket-<id>`` throughout: the escalation of a paged ticket adds to its open
alert instead of opening another. The destinations' ``priorities:`` and ``tiers:`` filters
decide who hears of what (``paging.services.destination_wants``): a plan pages its on-call
tool for P0/P1 only by saying so.

A ticket opened in, or escalated into, an on-call tier whose plan sets ``on_call.acknowledge``
also pages the rotation's primary, then the secondary if unacknowledged (``paging.oncall``).

The sweep collects its batch's pages in ``SweepPages`` and writes them with the batch (a fixed
number of queries per batch, whatever its size: ``paging.services.pages_record_many``,
``paging.oncall.on_call_pages_open`` with the batch's rosters).
"""

from django.conf import settings
from django.urls import reverse

from paging.oncall import on_call_page_open, on_call_pages_open
from paging.services import pages_record, pages_record_many

_URGENCY = ("critical", "error", "warning")


def _page(ticket, event, *, key, title, summary, tier):
    priority = ticket.priority
    position = priority.position
    url = settings.SITE_URL.rstrip("/") + reverse("admin:tickets_ticket_change", args=[ticket.pk])
    return {
        "service": ticket.service_id,
        "event": event,
        "key": key,
        "priority": priority.code,
        "tier": tier,
        "payload": {
            "title": f"{ticket.number} {title}: {ticket.subject}"[:300],
            "summary": summary[:500],
            "url": url,
            "label": f"Open {ticket.number}",
            "dedup_key": f"ticket-{ticket.pk}",
            "action": "trigger",
            "urgency": _URGENCY[position] if position < len(_URGENCY) else "info",
        },
    }


def ticket_created_page(ticket):
    """``ticket.created`` for a ticket just opened (in the caller's transaction)."""
    page = _page(
        ticket,
        "ticket.created",
        key=f"ticket:{ticket.pk}:created",
        title="opened",
        summary=f"{ticket.service.name} — {ticket.priority.code}, Tier {ticket.tier}",
        tier=ticket.tier,
    )
    on_call_page_open(**_on_call(page, ticket), now=ticket.created_at)
    return pages_record(**{**page, "service": ticket.service})


def _on_call(page, ticket):
    return {
        "service_id": ticket.service_id,
        "tier_level": ticket.tier,
        "key": page["key"],
        "title": page["payload"]["title"],
        "url": page["payload"]["url"],
    }


class SweepPages:
    """The pages of one batch of SLA steps and escalations, written by ``flush``."""

    def __init__(self, now, rosters=None):
        self.now = now
        self.rosters = rosters
        self.pages = []
        self.on_call = []

    def sla_step(self, ticket, event, *, key, summary):
        """``sla.warned`` / ``sla.breached`` of the step row ``key`` (``sla-step:<id>``)."""
        title = "at risk" if event == "sla.warned" else "SLA breached"
        self.pages.append(
            _page(
                ticket,
                event,
                key=f"{key}:{event}",
                title=title,
                summary=summary,
                tier=ticket.tier,
            )
        )

    def escalated(self, ticket, *, key, escalated, summary):
        """``ticket.escalated`` when ``escalated`` (a breach at the top tier moves nothing)."""
        if escalated:
            page = _page(
                ticket,
                "ticket.escalated",
                key=f"{key}:ticket.escalated",
                title=f"escalated to Tier {ticket.tier}",
                summary=summary,
                tier=ticket.tier,
            )
            self.pages.append(page)
            self.on_call.append(_on_call(page, ticket))

    def flush(self):
        pages, self.pages = self.pages, []
        on_call, self.on_call = self.on_call, []
        on_call_pages_open(items=on_call, now=self.now, rosters=self.rosters)
        return pages_record_many(pages=pages, now=self.now)
