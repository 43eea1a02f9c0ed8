"""On-call acknowledgement: the primary first, the secondary only if nobody acknowledged.

When a plan sets ``on_call.acknowledge`` (e.g. ``10m``), something landing in an on-call tier —
a ticket opened in it, a ticket escalated into it, an incident opened (the service's highest
on-call tier) — is an ``OnCallPage``, recorded in the transaction of that event, keyed by it:

1. the rotation's current primary (``sla.on_call``: layers, overrides) is emailed at once,
   with a signed link that acknowledges it (``views.acknowledge``: a page and a button, so a
   mail scanner following the link acknowledges nothing);
2. if nobody acknowledged by ``secondary_due_at`` (indexed), the beat sweep
   (``on_call_pages_escalate_due``, run by ``tasks.send_pending_pages`` every minute) emails
   the secondary, once: the row's deadline is cleared in the same transaction;
3. staff acknowledge from the link, the admin ("Acknowledge") or PagerDuty (its v3 webhook's
   ``incident.acknowledged``, matched on the page's ``dedup_key``: ``webhooks``); all three
   go through ``on_call_page_acknowledge``, which clears the deadline, so the sweep never
   reads the row again. A second acknowledgement changes nothing.
4. what it was about is resolved or closed (a ticket's ``ticket_set_status``, an incident's
   ``set_resolved``, in that transaction) before anyone acknowledged: the page is **closed**
   (``on_call_pages_close_for``: who, when, why), its deadline cleared, so the secondary is
   not told. It is not acknowledged — nobody took it — and cannot be afterwards. A reopened
   ticket is not paged again by reopening; landing in an on-call tier again (an escalation) is
   a new event, so a new page.

The plan's pages (PagerDuty, Slack …) are recorded by the events themselves, as before; PagerDuty
runs its own escalation policy on its side. Without ``on_call.acknowledge`` nothing here
happens and an on-call tier's emails reach every layer at once, as before.

Emails go through the outbox with keys ``oncall:<page key>:primary`` / ``…:secondary``, so a
sweep run twice, or a crash after the commit, sends nobody anything twice.
"""

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.sweeps import sweep_due_rows
from notifications.rendering import absolute_url, render_email
from notifications.services import OutboxEmail, notifications_create_many
from sla.durations import parse_duration
from sla.selectors import Rosters

from .models import OnCallPage

_SALT = "paging.on-call-acknowledge"


def acknowledge_token(page, layer):
    """The acknowledge link's token: the page and whom the email went to (primary/secondary)."""
    return signing.dumps([page.key, layer], salt=_SALT, compress=True)


def page_for_token(token):
    """``(page, the user the link was sent to)`` for a link's token; ``(None, None)`` when it
    is forged or mangled."""
    try:
        key, layer = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None, None
    page = (
        OnCallPage.objects.select_related(
            "service", "primary", "secondary", "acknowledged_by", "closed_by"
        )
        .filter(key=key)
        .first()
    )
    if page is None:
        return None, None
    return page, page.secondary if layer == "secondary" else page.primary


def on_call_pages_open(*, items, now, rosters=None):
    """Record the on-call pages of ``items`` — dicts with ``service_id``, ``tier_level``,
    ``key``, ``title``, ``url`` and optional ``dedup_key`` (the PagerDuty key of the ticket or
    incident, which PagerDuty's acknowledgement names) — in the caller's transaction, and
    email each one's primary. A fixed number of queries for any number of items
    (``rosters``: already loaded for them, e.g. by the SLA sweep's batch). Items whose tier
    is not on call, whose plan sets no acknowledgement time or whose rotation is empty are
    skipped. Returns the pages offered."""
    if not items:
        return []
    rosters = rosters or Rosters({item["service_id"] for item in items}, at=now)
    pages = []
    for item in items:
        tier = rosters.tier(item["service_id"], item["tier_level"])
        policy = rosters.policy(item["service_id"])
        if tier is None or not tier.on_call or policy is None:
            continue
        if not policy.on_call_acknowledge:
            continue
        people = list(rosters.on_call(item["service_id"], item["tier_level"]).values())
        if not people:
            continue
        primary = people[0]
        secondary = next((user for user in people[1:] if user.pk != primary.pk), None)
        wait = parse_duration(policy.on_call_acknowledge).timedelta
        pages.append(
            page := OnCallPage(
                key=item["key"],
                service_id=item["service_id"],
                tier_level=item["tier_level"],
                title=item["title"][:300],
                url=item["url"][:500],
                dedup_key=item.get("dedup_key", "")[:100],
                primary=primary,
                secondary=secondary,
                secondary_due_at=now + wait if secondary is not None else None,
                created_at=now,
            )
        )
        page.service = tier.service  # loaded with the rosters: no query per email
    if pages:
        OnCallPage.objects.bulk_create(pages, ignore_conflicts=True)
        notifications_create_many(emails=[_email(page, "primary", now) for page in pages])
    return pages


def on_call_page_open(*, service_id, tier_level, key, title, url, dedup_key="", now=None):
    """One event's on-call page (see ``on_call_pages_open``)."""
    now = now or timezone.now()
    item = {"service_id": service_id, "tier_level": tier_level, "key": key}
    item.update(title=title, url=url, dedup_key=dedup_key)
    return on_call_pages_open(items=[item], now=now)


def on_call_page_open_for_incident(*, service_id, key, title, url, dedup_key="", now=None):
    """An incident's on-call page: to the service's highest on-call tier (incidents have no
    tier of their own; the on-call tier is the one that takes infrastructure failures)."""
    now = now or timezone.now()
    rosters = Rosters({service_id}, at=now)
    levels = sorted(
        (
            level
            for (sid, level), tier in rosters.tiers.items()
            if sid == service_id and tier.on_call
        ),
        reverse=True,
    )
    if not levels:
        return []
    item = {"service_id": service_id, "tier_level": levels[0], "key": key}
    item.update(title=title, url=url, dedup_key=dedup_key)
    return on_call_pages_open(items=[item], now=now, rosters=rosters)


@transaction.atomic
def on_call_page_acknowledge(*, page, by, via, now=None):
    """``by`` takes the page: the secondary will not be told. Returns False when it was
    acknowledged already (by anyone): nothing changes then."""
    now = now or timezone.now()
    updated = OnCallPage.objects.filter(
        pk=page.pk, acknowledged_at__isnull=True, closed_at__isnull=True
    ).update(acknowledged_at=now, acknowledged_by=by, acknowledged_via=via, secondary_due_at=None)
    return bool(updated)


def on_call_pages_acknowledge_for(*, service_id, dedup_key, by, via, now=None):
    """Acknowledge the service's on-call pages about ``dedup_key`` (a ticket's creation and
    its escalations share one), each through ``on_call_page_acknowledge``. Returns
    ``(pages acknowledged now, pages found)``."""
    now = now or timezone.now()
    pages = OnCallPage.objects.filter(service_id=service_id, dedup_key=dedup_key).order_by("pk")
    found = taken = 0
    for page in pages:
        found += 1
        taken += on_call_page_acknowledge(page=page, by=by, via=via, now=now)
    return taken, found


def on_call_pages_close_for(*, service_id, dedup_key, reason, by=None, now=None):
    """What ``dedup_key`` is about (``ticket-<id>``, ``incident-<id>``) was resolved or closed
    (``reason``: ``OnCallPage.Closed``) by ``by``: close its unacknowledged on-call pages, in
    the caller's transaction, so the secondary is not told. Returns how many were closed now.

    One UPDATE: idempotent (a page acknowledged or closed already is left as it is, so
    closing a resolved ticket keeps "resolved"), and safe against the sweep sending the
    secondary at the same moment. The sweep locks due rows ``FOR UPDATE SKIP LOCKED``: if this
    statement holds a row first, the sweep skips it and, once this commits, never reads it again
    (its deadline is cleared); if the sweep holds it first, this waits for the sweep's commit
    and then closes the page the secondary was just told of (``secondary_told_at`` says so).
    """
    now = now or timezone.now()
    return OnCallPage.objects.filter(
        service_id=service_id,
        dedup_key=dedup_key,
        acknowledged_at__isnull=True,
        closed_at__isnull=True,
    ).update(closed_at=now, closed_by=by, closed_reason=reason, secondary_due_at=None)


def on_call_pages_escalate_due(*, now=None, batch_size=200):
    """Beat: tell the secondary of every page its primary left unacknowledged past its time;
    each once (the deadline is cleared with the email recorded, in one transaction)."""
    now = now or timezone.now()
    return dict(
        sweep_due_rows(
            OnCallPage.objects.filter(
                acknowledged_at__isnull=True, closed_at__isnull=True
            ).select_related("service", "primary", "secondary"),
            due_field="secondary_due_at",
            now=now,
            batch_size=batch_size,
            handle=lambda pages: _escalate(pages, now),
        )
    )


def _escalate(pages, now):
    emails = [_email(page, "secondary", now) for page in pages if page.secondary is not None]
    OnCallPage.objects.filter(pk__in=[page.pk for page in pages]).update(
        secondary_due_at=None, secondary_told_at=now
    )
    notifications_create_many(emails=emails)
    return {"secondary_told": len(emails)}


def _email(page, layer, now):
    user = page.primary if layer == "primary" else page.secondary
    link = absolute_url(reverse("paging:acknowledge", args=[acknowledge_token(page, layer)]))
    rendered = render_email(
        f"paging/on_call_{layer}",
        {
            "page": page,
            "user": user,
            "primary": page.primary,
            "acknowledge_url": link,
            "url": page.url,
            "service": page.service,
        },
    )
    return OutboxEmail(
        key=f"oncall:{page.key}:{layer}"[:255],
        to=user.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
    )
