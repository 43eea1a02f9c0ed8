"""Record pages in the event's transaction; send them afterwards, retrying, at most once in effect.

``pages_record`` is called by the code of an event (the incident services: an incident opened,
updated, resolved; see ``incidents.services.pages``) inside its transaction: it writes one
``Delivery`` per destination of the service whose plan entry wants that event (``events``,
``priorities``, ``tiers``), keyed so a second call writes nothing, and enqueues its sending
after commit. A rolled-back event pages nobody.

Sending (``delivery_send`` from the task, ``deliveries_send_due`` from the beat sweep) first
*claims* due rows: under ``SELECT … FOR UPDATE SKIP LOCKED`` it moves their ``next_attempt_at``
a lease ahead and commits, then posts outside any transaction (a slow destination holds no row
lock and no connection in a transaction), then records the outcome. A worker that dies
mid-attempt leaves the row to be tried again when the lease ends; the receiver sees the same
``webhook-id`` / ``dedup_key`` and takes it as the same message.

Outcomes: 2xx sent; 5xx, 408, 429, timeouts and connection errors retried with backoff until
``give_up_at`` (then failed); a refused destination (SSRF guard), an unset or unusable secret
and other 4xx failed at once. A failed row is shown in admin and sent again from there.
"""

import hashlib
import logging
import os
import time
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import kinds, transport
from .models import Delivery, Destination, Kind

logger = logging.getLogger(__name__)

Status = Delivery.Status

FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=15)


def destination_configured(destination):
    """Whether the destination's environment variable is set (its value is never shown)."""
    return bool(os.environ.get(destination.secret_env))


def destination_wants(destination, *, event, priority=None, tier=None):
    """Whether ``event`` (of a ticket or incident of ``priority``, in ``tier``) goes to it. An
    event without a tier (an incident) passes a tier filter; one without a priority passes a
    priority filter."""
    if event not in destination.events:
        return False
    if destination.priorities and priority is not None and priority not in destination.priorities:
        return False
    return not (destination.tiers and tier is not None and tier not in destination.tiers)


@transaction.atomic
def pages_record(*, service, event, key, payload, priority=None, tier=None, now=None):
    """Record the pages of ``event`` for ``service``: one ``Delivery`` per destination that
    wants it, keyed ``<key>:<destination id>`` (a second call with the same ``key`` records
    nothing). ``payload`` holds what every kind needs: ``title``, ``url``, ``dedup_key``,
    ``action`` (PagerDuty's trigger / resolve) and optional ``summary``, ``urgency``.
    Returns the deliveries recorded by this call."""
    now = now or timezone.now()
    give_up = now + timedelta(seconds=settings.PAGING_GIVE_UP_AFTER)
    payload = {
        **payload,
        "event": event,
        "service": service.slug,
        "priority": priority or "",
        "tier": tier,
    }
    recorded = []
    destinations = Destination.objects.filter(service=service, retired_at__isnull=True)
    for destination in destinations.order_by("position", "id"):
        if not destination_wants(destination, event=event, priority=priority, tier=tier):
            continue
        delivery_key = f"{key}:{destination.pk}"
        delivery, created = Delivery.objects.get_or_create(
            key=delivery_key,
            defaults={
                "destination": destination,
                "event": event,
                "message_id": "msg_" + hashlib.sha256(delivery_key.encode()).hexdigest()[:32],
                "payload": payload,
                "dedup_key": str(payload.get("dedup_key") or "")[:100],
                "next_attempt_at": now,
                "give_up_at": give_up,
                "created_at": now,
            },
        )
        if created:
            recorded.append(delivery)
            transaction.on_commit(partial(_enqueue_send, delivery.pk), robust=True)
    return recorded


@transaction.atomic
def pages_resolve(*, service, dedup_key, event, key, payload, now=None):
    """Close what ``dedup_key`` opened: a PagerDuty ``resolve`` to each of the service's active
    PagerDuty destinations whose latest page about it was a trigger, in the caller's
    transaction (e.g. a ticket resolved or closed). Keyed ``<key>:<trigger id>:<destination
    id>``, so it is recorded once per trigger: resolving again, or closing a resolved ticket,
    records nothing; a reopened ticket paged again is resolved again. Destinations never
    triggered about it hear nothing. Returns the deliveries recorded."""
    now = now or timezone.now()
    latest = {}
    for delivery in (
        Delivery.objects.filter(
            dedup_key=dedup_key,
            destination__service=service,
            destination__kind=Kind.PAGERDUTY,
            destination__retired_at__isnull=True,
        )
        .select_related("destination")
        .order_by("destination_id", "-id")
    ):
        latest.setdefault(delivery.destination_id, delivery)
    give_up = now + timedelta(seconds=settings.PAGING_GIVE_UP_AFTER)
    recorded = []
    for trigger in latest.values():
        if trigger.payload.get("action", "trigger") != "trigger":
            continue  # resolved already since its last trigger
        delivery_key = f"{key}:{trigger.pk}:{trigger.destination_id}"
        delivery, created = Delivery.objects.get_or_create(
            key=delivery_key,
            defaults={
                "destination": trigger.destination,
                "event": event,
                "message_id": "msg_" + hashlib.sha256(delivery_key.encode()).hexdigest()[:32],
                "payload": {**trigger.payload, **payload, "event": event, "action": "resolve"},
                "dedup_key": dedup_key,
                "next_attempt_at": now,
                "give_up_at": give_up,
                "created_at": now,
            },
        )
        if created:
            recorded.append(delivery)
            transaction.on_commit(partial(_enqueue_send, delivery.pk), robust=True)
    return recorded


def destinations_by_service(service_ids):
    """``{service id: [active destinations, in plan order]}`` in one query."""
    by_service = {}
    for destination in (
        Destination.objects.filter(service_id__in=service_ids, retired_at__isnull=True)
        .select_related("service")
        .order_by("position", "id")
    ):
        by_service.setdefault(destination.service_id, []).append(destination)
    return by_service


def pages_record_many(*, pages, now=None, by_service=None):
    """Record many events' pages at once, for a sweep: ``pages`` are dicts with the arguments
    of ``pages_record`` (``service`` may be an id). Two queries whatever their number — the
    destinations of their services, one ``INSERT … ON CONFLICT DO NOTHING`` of the rows (a key
    recorded before is skipped) — and one send task enqueued on commit, which sends every due
    row (the beat sweep does the same if the broker is down). ``by_service``: the caller's
    ``destinations_by_service`` (then one query). Returns how many rows were offered
    (conflicts included)."""
    if not pages:
        return 0
    now = now or timezone.now()
    give_up = now + timedelta(seconds=settings.PAGING_GIVE_UP_AFTER)
    if by_service is None:
        by_service = destinations_by_service(
            {getattr(page["service"], "pk", page["service"]) for page in pages}
        )
    rows = []
    for page in pages:
        service_id = getattr(page["service"], "pk", page["service"])
        for destination in by_service.get(service_id, ()):
            priority, tier = page.get("priority"), page.get("tier")
            if not destination_wants(
                destination, event=page["event"], priority=priority, tier=tier
            ):
                continue
            delivery_key = f"{page['key']}:{destination.pk}"
            payload = {
                **page["payload"],
                "event": page["event"],
                "service": destination.service.slug,
                "priority": priority or "",
                "tier": tier,
            }
            rows.append(
                Delivery(
                    key=delivery_key,
                    destination=destination,
                    event=page["event"],
                    message_id="msg_" + hashlib.sha256(delivery_key.encode()).hexdigest()[:32],
                    payload=payload,
                    dedup_key=str(payload.get("dedup_key") or "")[:100],
                    next_attempt_at=now,
                    give_up_at=give_up,
                    created_at=now,
                )
            )
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        transaction.on_commit(_enqueue_sweep, robust=True)
    return len(rows)


def delivery_send(*, delivery_id, now=None):
    """Attempt one pending delivery now if no one else is; returns True when it was sent."""
    now = now or timezone.now()
    claimed = _claim(Delivery.objects.filter(pk=delivery_id), due_by=now, now=now, limit=1)
    return any(_attempt(delivery) is Status.SENT for delivery in claimed)


def deliveries_send_due(*, now=None, batch_size=50):
    """Attempt every pending delivery whose attempt is due; returns how many were sent.

    A destination that timed out or refused the connection in this sweep is not tried again
    in it: its other rows are put off for half a minute, untouched otherwise, so one hanging
    destination costs a sweep one timeout, not one per row.
    """
    due_by = now or timezone.now()
    sent = 0
    unresponsive = set()
    while True:
        claimed = _claim(Delivery.objects.all(), due_by=due_by, now=due_by, limit=batch_size)
        for delivery in claimed:
            if delivery.destination_id in unresponsive:
                Delivery.objects.filter(pk=delivery.pk, status=Status.PENDING).update(
                    next_attempt_at=timezone.now() + FIRST_BACKOFF
                )
                continue
            outcome = _attempt(delivery)
            if outcome is Status.SENT:
                sent += 1
            elif outcome == "unreachable":
                unresponsive.add(delivery.destination_id)
        if len(claimed) < batch_size:
            return sent


@transaction.atomic
def delivery_retry(*, delivery):
    """Send a failed (or waiting) delivery again now, with a fresh time before giving up.

    Staff do this from admin; a sent delivery is left alone, so retrying never sends twice.
    Returns True when the delivery was queued."""
    delivery = Delivery.objects.select_for_update().filter(pk=delivery.pk).first()
    if delivery is None or delivery.status == Status.SENT:
        return False
    now = timezone.now()
    delivery.status = Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.give_up_at = now + timedelta(seconds=settings.PAGING_GIVE_UP_AFTER)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "give_up_at"])
    transaction.on_commit(partial(_enqueue_send, delivery.pk), robust=True)
    return True


def _lease():
    # Longer than any attempt can take (one timeout for connect, one for the answer).
    return timedelta(seconds=settings.PAGING_TIMEOUT * 4 + 30)


def _claim(queryset, *, due_by, now, limit):
    """Lock up to ``limit`` due pending rows of ``queryset``, move them a lease ahead, commit."""
    with transaction.atomic():
        rows = list(
            queryset.select_for_update(skip_locked=True, of=("self",))
            .select_related("destination")
            .filter(status=Status.PENDING, next_attempt_at__lte=due_by)
            .order_by("next_attempt_at", "id")[:limit]
        )
        if rows:
            Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(
                next_attempt_at=now + _lease()
            )
    return rows


def _attempt(delivery):
    """Post one claimed delivery and record the outcome: ``Status.SENT``, ``Status.FAILED``,
    ``"retry"`` or ``"unreachable"`` (no answer or no connection; retried later too)."""
    destination = delivery.destination
    attempts = delivery.attempts + 1
    secret = os.environ.get(destination.secret_env, "")
    if not secret:
        return _record(
            delivery,
            attempts,
            Status.FAILED,
            error=f"not configured: the environment variable {destination.secret_env} is unset",
        )
    timestamp = int(time.time())
    try:
        url, headers, body = kinds.build(
            kind=destination.kind,
            payload=delivery.payload,
            secret=secret,
            url=destination.url,
            message_id=delivery.message_id,
            timestamp=timestamp,
        )
        response = transport.post(url, body=body, headers=headers)
    except (kinds.SecretInvalid, transport.Refused) as exc:
        return _record(delivery, attempts, Status.FAILED, error=f"refused: {exc}")
    except transport.Unreachable as exc:
        _record(delivery, attempts, "retry", error=str(exc))
        return "unreachable"
    if 200 <= response.status < 300:
        return _record(delivery, attempts, Status.SENT, code=response.status)
    if response.status >= 500 or response.status in (408, 429):
        return _record(
            delivery, attempts, "retry", code=response.status, error=f"HTTP {response.status}"
        )
    return _record(
        delivery,
        attempts,
        Status.FAILED,
        code=response.status,
        error=f"HTTP {response.status}: the destination refused the message",
    )


def _record(delivery, attempts, outcome, *, code=None, error=""):
    now = timezone.now()
    values = {"attempts": attempts, "last_error": error[:500], "last_status_code": code}
    if outcome is Status.SENT:
        values.update(status=Status.SENT, sent_at=now, last_error="")
    elif outcome is Status.FAILED or now >= delivery.give_up_at:
        values.update(status=Status.FAILED)
        if outcome == "retry":
            values["last_error"] = f"gave up after {attempts} attempts: {error}"[:500]
        logger.warning("Page %s to %s failed: %s", delivery.pk, delivery.destination, error)
    else:
        backoff = min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
        values.update(next_attempt_at=min(now + backoff, max(delivery.give_up_at, now)))
    Delivery.objects.filter(pk=delivery.pk, status=Status.PENDING).update(**values)
    return values.get("status", outcome)


def _enqueue_send(delivery_id):
    from .tasks import send_page

    try:
        send_page.delay(delivery_id)
    except Exception:  # the broker is down; the row stays pending for the sweep
        logger.warning("Could not enqueue page %s; the sweep will send it", delivery_id)


def _enqueue_sweep():
    from .tasks import send_pending_pages

    try:
        send_pending_pages.delay()
    except Exception:  # the broker is down; the beat sweep sends them
        logger.warning("Could not enqueue the page sweep; beat will run it")
