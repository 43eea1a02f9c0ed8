"""The maintenance notice sweep: every email that has come due, each recorded exactly once.

``notices_send_due`` runs every minute from beat. It works in two steps:

1. **Rounds.** For every upcoming occurrence whose lead time (``7d``, ``48h``, …) has been
   reached, a ``NoticeRound`` row named by (window, occurrence, lead) is created with
   ``INSERT … ON CONFLICT DO NOTHING``: two sweeps racing create it once. When several lead
   times are due at once (beat was down, or the window was scheduled at short notice) only the
   most recent one is sent; the older ones are recorded as ``skipped``. Quarterly calendars
   (digests) and "updated"/"cancelled" emails are rounds too (the latter created by
   ``occurrence_move`` / ``occurrence_cancel``).

2. **Batches.** A pending round is worked through its recipients by subscription id, one
   transaction per batch: lock the round row (``FOR UPDATE SKIP LOCKED``: a round another
   worker is on is skipped, not waited for), read the next ``batch_size`` subscribers after the
   round's cursor, insert one ``NoticeDelivery`` per recipient (unique per round and
   subscription) and one outbox row per recipient (key derived from the same pair), both
   ``ON CONFLICT DO NOTHING``, and move the cursor. All of it commits together, so a crash
   half-way leaves every committed batch recorded and the rest to the next run, which starts
   at the committed cursor: nobody is recorded twice, nobody is left out.

Delivery of the recorded emails is the outbox's job (``notifications.delivery``). The round's
email is rendered once; each recipient's copy differs only in its unsubscribe link.
"""

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.periods import next_quarter_start, quarter_start
from core.sql import execute_bound
from core.zones import local_midnight, zone
from notifications.services import (
    OutboxEmail,
    notification_body_create,
    notifications_insert_many,
)

from . import emails
from .models import MaintenanceWindow, NoticeDelivery, NoticeRound, OccurrenceException
from .occurrences import notice_round_key
from .selectors import (
    occurrences_for_services,
    policies_by_service,
    policy_leads,
    subscribers_for_notice,
    subscribers_notified,
)
from .subscriptions import subscriptions_sync_members

logger = logging.getLogger(__name__)

Kind = NoticeRound.Kind
Status = NoticeRound.Status

# A quarter's calendar not sent by its first day (beat down) still goes out in its first weeks.
DIGEST_GRACE = timedelta(days=14)


def notices_send_due(*, now=None, batch_size=1000):
    """Create the rounds that have come due and record every pending round's emails.

    Returns how many emails this run recorded in the outbox.
    """
    now = now or timezone.now()
    policies = {
        service_id: policy
        for service_id, policy in policies_by_service().items()
        if "email" in (policy.channels or ())
    }
    rounds_create_due(now=now, policies=policies)
    digests_create_due(now=now, policies=policies)
    recorded = 0
    pending = NoticeRound.objects.filter(status=Status.PENDING).order_by("created_at", "pk")
    for round_id in list(pending.values_list("pk", flat=True)):
        recorded += round_work(round_id=round_id, now=now, batch_size=batch_size)
    return recorded


def rounds_create_due(*, now, policies):
    """Create the notice rounds whose lead time has come, the older due ones as skipped."""
    longest = max(
        (lead for policy in policies.values() for _, lead in policy_leads(policy)),
        default=None,
    )
    if longest is None:
        return 0
    services = [policy.service for policy in policies.values()]
    occurrences = occurrences_for_services(
        services=services, start=now, end=now + longest + timedelta(minutes=1)
    )
    wanted = {}  # key → (round, older keys to skip)
    for occurrence in occurrences:
        if occurrence.cancelled or occurrence.starts_at <= now:
            continue  # nothing for an occurrence that has begun
        window = occurrence.window
        due = [
            lead
            for lead, delta in policy_leads(policies[window.service_id])
            if occurrence.starts_at - delta <= now
        ]
        if not due:
            continue
        for position, lead in enumerate(due):
            latest = position == len(due) - 1
            key = notice_round_key(window.pk, occurrence.original_start, Kind.NOTICE, lead)
            wanted[key] = NoticeRound(
                key=key,
                service_id=window.service_id,
                window=window,
                occurrence_start=occurrence.original_start,
                kind=Kind.NOTICE,
                lead=lead,
                status=Status.PENDING if latest else Status.SKIPPED,
                starts_at=occurrence.starts_at,
                ends_at=occurrence.ends_at,
                finished_at=None if latest else now,
            )
    if not wanted:
        return 0
    existing = set(NoticeRound.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
    new = [row for key, row in wanted.items() if key not in existing]
    if not new:
        return 0
    with transaction.atomic():
        NoticeRound.objects.bulk_create(new, ignore_conflicts=True)
        # A round of an older lead still sending when a newer one comes due (a huge round, or
        # catch-up) stops: nobody gets two notices of one occurrence in the same minute.
        older = [key for key, row in wanted.items() if row.status == Status.SKIPPED]
        NoticeRound.objects.filter(key__in=older, status=Status.PENDING).update(
            status=Status.SKIPPED, finished_at=now
        )
    return len(new)


def digests_create_due(*, now, policies):
    """Create the quarterly calendar round of each service whose digest time has come."""
    new = []
    for policy in policies.values():
        if not policy.quarterly_digest:
            continue
        service = policy.service
        lead = timedelta(minutes=_minutes(policy.quarterly_digest))
        today = now.astimezone(zone(service.timezone)).date()
        for first in {quarter_start(today), next_quarter_start(today)}:
            begins = local_midnight(first, service.timezone)
            if not (begins - lead <= now < begins + DIGEST_GRACE):
                continue
            quarter = f"{first.year}Q{(first.month - 1) // 3 + 1}"
            new.append(
                NoticeRound(
                    key=f"{Kind.DIGEST}:{service.pk}:{quarter}",
                    service=service,
                    occurrence_start=begins,
                    kind=Kind.DIGEST,
                    lead=policy.quarterly_digest,
                    starts_at=begins,
                    ends_at=local_midnight(next_quarter_start(first), service.timezone),
                )
            )
    if new:
        NoticeRound.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _minutes(duration):
    from sla.plan.rules import duration_minutes

    return duration_minutes(duration)


def round_work(*, round_id, now, batch_size):
    """Record a pending round's emails, a batch per transaction, until it is done.

    Returns how many emails this call recorded. A round another worker holds is left to it.
    """
    recorded = 0
    rendered = None
    while True:
        with transaction.atomic():
            rnd = (
                NoticeRound.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("service", "window")
                .filter(pk=round_id, status=Status.PENDING)
                .first()
            )
            if rnd is None:
                return recorded
            if rnd.kind == Kind.NOTICE:
                current = _occurrence_now(rnd)
                if current is None:  # cancelled after the sweep that created the round read it
                    _finish(rnd, Status.STOPPED, now)
                    return recorded
                if current != (rnd.starts_at, rnd.ends_at):
                    if rnd.cursor:  # cannot happen: a move locks the window, then the rounds
                        _finish(rnd, Status.STOPPED, now)
                        return recorded
                    rnd.starts_at, rnd.ends_at = current  # moved before anyone was told
                    rnd.save(update_fields=["starts_at", "ends_at"])
                    rendered = None
                if rnd.starts_at <= now:
                    # Late: the window has begun, a notice now would be noise.
                    _finish(rnd, Status.STOPPED, now)
                    return recorded
            recipients = _recipients(rnd, batch_size)
            if rendered is None:
                rendered = _render(rnd)
            count = _record(rnd, recipients, rendered, now)
            recorded += count
            rnd.cursor = recipients[-1][0] if recipients else rnd.cursor
            rnd.recorded = F("recorded") + count
            fields = ["cursor", "recorded"]
            if len(recipients) < batch_size:
                rnd.status, rnd.finished_at = Status.DONE, now
                fields += ["status", "finished_at"]
            rnd.save(update_fields=fields)
            if len(recipients) < batch_size:
                return recorded


def _occurrence_now(rnd):
    """The occurrence's (start, end) as it stands, or None if cancelled.

    Takes the window's row lock, which ``occurrence_cancel``/``occurrence_move`` take first: a
    batch and a change to the occurrence never interleave, so either the batch sees the change,
    or the change sees the batch's deliveries (and sends its update to them).
    """
    list(
        MaintenanceWindow.objects.select_for_update(no_key=True)
        .filter(pk=rnd.window_id)
        .values_list("pk", flat=True)
    )
    exc = OccurrenceException.objects.filter(
        window_id=rnd.window_id, original_start=rnd.occurrence_start
    ).first()
    if exc is None:
        return rnd.starts_at, rnd.ends_at
    if exc.cancelled:
        return None
    return exc.new_start, exc.new_end


def _finish(rnd, status, now):
    rnd.status, rnd.finished_at = status, now
    rnd.save(update_fields=["status", "finished_at"])


def _recipients(rnd, batch_size):
    if rnd.kind in (Kind.NOTICE, Kind.DIGEST):
        if rnd.cursor == 0:
            subscriptions_sync_members(service_id=rnd.service_id)
        return subscribers_for_notice(
            service_id=rnd.service_id, after=rnd.cursor, limit=batch_size, topic="maintenance"
        )
    notices = NoticeRound.objects.filter(
        window_id=rnd.window_id, occurrence_start=rnd.occurrence_start, kind=Kind.NOTICE
    ).values("pk")
    return subscribers_notified(round_ids=notices, after=rnd.cursor, limit=batch_size)


def _record(rnd, recipients, rendered, now):
    if not recipients:
        return 0
    link = emails.unsubscribe_links()
    # The content once per batch; each outbox row carries only its recipient and link.
    body = notification_body_create(
        subject=rendered.subject, body_text=rendered.text, body_html=rendered.html
    )
    prefix = f"maint:{rnd.key}:"
    why = {customer: emails.why_sent(customer, "maintenance") for customer in (False, True)}
    outbox = [
        OutboxEmail(
            key=f"{prefix}{pk}",
            to=address,
            subject=rendered.subject,
            headers=emails.UNSUBSCRIBE_HEADERS,
            body=body,
            substitutions={
                emails.UNSUBSCRIBE_PLACEHOLDER: link(token),
                emails.WHY_PLACEHOLDER: why[customer],
            },
        )
        for pk, address, token, customer in recipients
    ]
    _deliveries_insert(rnd, [pk for pk, *_ in recipients], prefix, now)
    notifications_insert_many(emails=outbox)
    return len(recipients)


def _deliveries_insert(rnd, subscription_ids, prefix, now):
    """One ``NoticeDelivery`` per subscription (``ON CONFLICT DO NOTHING``), its key
    ``prefix + subscription id`` as the outbox row's.

    On PostgreSQL one statement over an array bound server-side, the keys made by the database
    (``bulk_create`` built a model instance per row and quoted every value into the SQL: most
    of the batch's Python time); elsewhere ``bulk_create``.
    """
    if connection.vendor != "postgresql":
        NoticeDelivery.objects.bulk_create(
            [
                NoticeDelivery(
                    round=rnd, subscription_id=pk, notification_key=f"{prefix}{pk}", created_at=now
                )
                for pk in subscription_ids
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
        return
    table = connection.ops.quote_name(NoticeDelivery._meta.db_table)
    execute_bound(
        f"INSERT INTO {table} (round_id, subscription_id, notification_key, created_at) "  # noqa: S608
        "SELECT %b, s, %b || s::text, %b FROM unnest(%b::bigint[]) AS r(s) "
        "ON CONFLICT DO NOTHING",
        [rnd.pk, prefix, now, subscription_ids],
        db=connection,
    )


def _render(rnd):
    from .emails import round_context

    context = round_context(rnd)
    return emails.render_round(rnd.kind, context)
