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

Resolving or closing a ticket resolves the PagerDuty alert its pages opened (``resolve``, the
same ``dedup_key``), whatever the destination's ``events``: a trigger is always closed.

A ticket opened in, or escalated into, an on-call tier whose plan sets ``on_call.acknowledge``
also pages the rotation's primary, then the secondary if unacknowledged (``paging.oncall``).

The sweep collects its batch's pages in ``SweepPages`` and writes them with the batch (a fixed
number of queries per batch, whatever its size: ``paging.services.pages_record_many``,
``paging.oncall.on_call_pages_open`` with the batch's rosters).
"""

import functools

from django.conf import settings
from django.urls import reverse

from paging.oncall import on_call_page_open, on_call_pages_open
from paging.services import (
    destination_wants,
    destinations_by_service,
    pages_record,
    pages_record_many,
    pages_resolve,
)
from sla.models import EscalationPolicy, Tier

from . import lookups

_URGENCY = ("critical", "error", "warning")


@functools.cache
def _admin_url_pattern(site_url):
    # reverse() once, not per ticket of a sweep's batch.
    return site_url.rstrip("/") + reverse("admin:tickets_ticket_change", args=[987654321])


def _admin_url(ticket):
    return _admin_url_pattern(settings.SITE_URL).replace("987654321", str(ticket.pk))


def _page(ticket, event, *, key, title, summary, tier):
    priority = ticket.priority
    position = priority.position
    url = _admin_url(ticket)
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
    if _may_page(ticket, on_call=True):
        on_call_page_open(**_on_call(page, ticket), now=ticket.created_at)
    if not _may_page(ticket, on_call=False):
        return []
    return pages_record(**{**page, "service": ticket.service})


def _may_page(ticket, *, on_call):
    """Whether a new ticket may page its tier's on-call rotation (``on_call``: an on-call tier
    and a plan with an acknowledgement time) or the plan's destinations (any active one).
    Inside a batch of inbound mail (``lookups.read_once``) this is read once per batch and
    service, as the rest of the plan is, so a ticket of a service that pages nobody reads no
    rosters (six queries) and no destinations; elsewhere (True) the pages decide alone."""
    if not lookups.reading_once():
        return True
    if not on_call:
        return lookups.once(
            ("paging.destinations", ticket.service_id),
            lambda: bool(destinations_by_service([ticket.service_id]).get(ticket.service_id)),
        )
    return lookups.once(
        ("paging.on_call", ticket.service_id, ticket.tier),
        lambda: (
            Tier.objects.filter(
                service_id=ticket.service_id, level=ticket.tier, on_call=True
            ).exists()
            and EscalationPolicy.objects.filter(service_id=ticket.service_id)
            .exclude(on_call_acknowledge="")
            .exists()
        ),
    )


def _on_call(page, ticket):
    return {
        "service_id": ticket.service_id,
        "tier_level": ticket.tier,
        "key": page["key"],
        "title": page["payload"]["title"],
        "url": page["payload"]["url"],
        "dedup_key": page["payload"]["dedup_key"],
    }


def ticket_resolved_page(ticket):
    """A ticket resolved or closed (in the caller's transaction): PagerDuty destinations its
    pages triggered an alert on get a ``resolve`` with its ``dedup_key``, once per trigger
    (``paging.services.pages_resolve``); closing a resolved ticket sends nothing more."""
    return pages_resolve(
        service=ticket.service_id,
        dedup_key=f"ticket-{ticket.pk}",
        event="ticket.resolved",
        key=f"ticket:{ticket.pk}:resolved",
        payload={"title": f"{ticket.number} {ticket.get_status_display().lower()}"},
    )


class SweepPages:
    """The pages of one batch of SLA steps and escalations, written by ``flush``. What each
    event needs is kept as it comes, and a page is built only where the service's plan has a
    destination wanting it (an on-call page only for an on-call tier with an acknowledgement
    time): a batch of services without ``notify:`` costs one query and no per-ticket work."""

    def __init__(self, now, rosters=None):
        self.now = now
        self.rosters = rosters
        self.events = []

    def sla_step(self, ticket, event, *, key, summary):
        """``sla.warned`` / ``sla.breached`` of the step row ``key`` (``sla-step:<id>``)."""
        title = "at risk" if event == "sla.warned" else "SLA breached"
        self.events.append((ticket, event, f"{key}:{event}", title, summary, ticket.tier))

    def escalated(self, ticket, *, key, escalated, summary):
        """``ticket.escalated`` when ``escalated`` (a breach at the top tier moves nothing)."""
        if escalated:
            title = f"escalated to Tier {ticket.tier}"
            event = "ticket.escalated"
            self.events.append((ticket, event, f"{key}:{event}", title, summary, ticket.tier))

    def flush(self):
        events, self.events = self.events, []
        if not events:
            return 0
        by_service = destinations_by_service({ticket.service_id for ticket, *_ in events})
        pages, on_call = [], []
        for ticket, event, key, title, summary, tier in events:
            wanted = any(
                destination_wants(d, event=event, priority=ticket.priority.code, tier=tier)
                for d in by_service.get(ticket.service_id, ())
            )
            to_on_call = event == "ticket.escalated" and self._acknowledged(ticket)
            if not wanted and not to_on_call:
                continue
            page = _page(ticket, event, key=key, title=title, summary=summary, tier=tier)
            if wanted:
                pages.append(page)
            if to_on_call:
                on_call.append(_on_call(page, ticket))
        on_call_pages_open(items=on_call, now=self.now, rosters=self.rosters)
        return pages_record_many(pages=pages, now=self.now, by_service=by_service)

    def _acknowledged(self, ticket):
        """Whether the ticket's tier is on call with an acknowledgement time (without the
        batch's rosters, ``on_call_pages_open`` decides)."""
        if self.rosters is None:
            return True
        tier = self.rosters.tier(ticket.service_id, ticket.tier)
        policy = self.rosters.policy(ticket.service_id)
        return bool(tier and tier.on_call and policy and policy.on_call_acknowledge)
