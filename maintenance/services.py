"""Staff's changes to maintenance occurrences: cancel, move, restore one occurrence.

Each is one transaction that locks the window first (``window_lock``), so it takes turns with
the notice batches of that window (``notices``); subscribers already told of the occurrence get
one change round ("cancelled" or "updated"), sent by the notice sweep after the commit. The
plan file's writes are in ``plan``, the banner's cache in ``banner``, subscriptions in
``subscriptions``.
"""

import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.zones import zone
from sla.plan import rules
from sla.plan.rules import RuleError

from .banner import banner_cache_clear
from .models import MaintenancePolicy, MaintenanceWindow, NoticeRound, OccurrenceException
from .occurrences import notice_round_key
from .selectors import occurrence_get

logger = logging.getLogger(__name__)


@transaction.atomic
def occurrence_cancel(*, window, starts_at, by, reason=""):
    """Cancel one occurrence (named by its original start) of a recurring or one-off window.

    Subscribers who were sent a notice of it get a cancellation email, once.
    """
    window_lock(window)
    original_start = _original_start(window, starts_at)
    exception = _exception_save(
        window,
        original_start,
        {"cancelled": True, "new_start": None, "new_end": None, "reason": reason, "by": by},
    )
    _announce_change(window, original_start, NoticeRound.Kind.CANCELLED, None, None)
    return exception


@transaction.atomic
def occurrence_move(*, window, starts_at, new_start, by, new_end=None, reason=""):
    """Move one occurrence to ``new_start`` (aware); it keeps its length unless ``new_end``.

    The plan's ``allowed`` slot applies as it does to the window. Subscribers already notified
    get an "updated" email, once per move.
    """
    window_lock(window)
    original_start = _original_start(window, starts_at)
    occurrence = occurrence_get(window=window, original_start=original_start)
    if occurrence.cancelled:
        raise ValidationError("this occurrence is cancelled; it cannot be moved")
    if new_end is None:
        new_end = new_start + (occurrence.ends_at - occurrence.starts_at)
    if new_end <= new_start:
        raise ValidationError({"new_end": "the end must be after the start"})
    if new_end <= timezone.now():
        raise ValidationError({"new_start": "an occurrence cannot be moved into the past"})
    _check_slot(window, new_start, new_end)
    exception = _exception_save(
        window,
        original_start,
        {
            "cancelled": False,
            "new_start": new_start,
            "new_end": new_end,
            "reason": reason,
            "by": by,
        },
    )
    _announce_change(window, original_start, NoticeRound.Kind.UPDATED, new_start, new_end)
    return exception


@transaction.atomic
def occurrence_restore(*, window, starts_at):
    """Undo a cancellation or move that no notice has gone out about (admin's "undo")."""
    original_start = _original_start(window, starts_at)
    OccurrenceException.objects.filter(window=window, original_start=original_start).delete()
    transaction.on_commit(partial(banner_cache_clear, service_id=window.service_id))


def window_lock(window):
    """Serialise with notice batches of this window (see ``notices._occurrence_now``)."""
    list(MaintenanceWindow.objects.select_for_update().filter(pk=window.pk).values_list("pk"))


def _original_start(window, starts_at):
    occurrence = occurrence_get(window=window, original_start=starts_at)
    if occurrence is None:
        # Named by where it was moved to: find the move.
        exc = OccurrenceException.objects.filter(window=window, new_start=starts_at).first()
        if exc is not None:
            return exc.original_start
        raise ValidationError(
            f"{window} has no occurrence starting at {starts_at:%Y-%m-%d %H:%M} UTC"
        )
    return occurrence.original_start


def _check_slot(window, new_start, new_end):
    policy = MaintenancePolicy.objects.filter(service_id=window.service_id).first()
    if not policy or not policy.allowed:
        return
    local = new_start.astimezone(zone(window.timezone))
    minutes = int((new_end - new_start).total_seconds() // 60)
    try:
        rules.check_window_in_slot(
            slot=policy.allowed,
            start=local.time().replace(second=0, microsecond=0),
            duration=f"{minutes}m",
            timezone=window.timezone,
            on_date=local.date(),
            today=local.date(),
        )
    except RuleError as exc:
        raise ValidationError({"new_start": exc.message}) from None


def _exception_save(window, original_start, fields):
    exception, created = OccurrenceException.objects.select_for_update().get_or_create(
        window=window, original_start=original_start, defaults={**fields, "at": timezone.now()}
    )
    if not created:
        for name, value in fields.items():
            setattr(exception, name, value)
        exception.at = timezone.now()
        exception.full_clean(exclude=["window", "by"])
        exception.save(update_fields=[*fields, "at"])
    transaction.on_commit(partial(banner_cache_clear, service_id=window.service_id))
    return exception


def _announce_change(window, original_start, kind, new_start, new_end):
    """Stop the occurrence's notice rounds still sending, and queue one change round for
    the people they reached. Locks the rounds (waiting for a batch in flight to commit).

    A round that has reached nobody yet is not stopped by a move: its batches read the new
    time (``notices._occurrence_now``).
    """
    notices = list(
        NoticeRound.objects.select_for_update()
        .filter(window=window, occurrence_start=original_start, kind=NoticeRound.Kind.NOTICE)
        .exclude(status=NoticeRound.Status.SKIPPED)
        .order_by("pk")
    )
    for notice in notices:
        moved_before_anyone_was_told = kind == NoticeRound.Kind.UPDATED and not notice.recorded
        if notice.status == NoticeRound.Status.PENDING and not moved_before_anyone_was_told:
            notice.status = NoticeRound.Status.STOPPED
            notice.finished_at = timezone.now()
            notice.save(update_fields=["status", "finished_at"])
    if not any(notice.recorded for notice in notices):
        return None
    version = new_start.strftime("%Y%m%dT%H%M%SZ") if new_start else ""
    key = notice_round_key(window.pk, original_start, kind, version)
    NoticeRound.objects.bulk_create(
        [
            NoticeRound(
                key=key,
                service_id=window.service_id,
                window=window,
                occurrence_start=original_start,
                kind=kind,
                lead=version,
                starts_at=new_start,
                ends_at=new_end,
            )
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(_enqueue_notices, robust=True)
    return key


def _enqueue_notices():
    from .tasks import send_maintenance_notices

    try:
        send_maintenance_notices.delay()
    except Exception:  # the broker is down: beat runs the sweep within a minute
        logger.warning("Could not enqueue the maintenance notices; beat will run them")


def window_cancel_announced(*, window, now):
    """A window dropped from the plan will not happen: its notice rounds still sending stop,
    and whoever was told of a coming occurrence hears it is cancelled, once."""
    announced = (
        NoticeRound.objects.filter(
            window=window, kind=NoticeRound.Kind.NOTICE, occurrence_start__gt=now
        )
        .values_list("occurrence_start", flat=True)
        .distinct()
    )
    for occurrence_start in sorted(set(announced)):
        _announce_change(window, occurrence_start, NoticeRound.Kind.CANCELLED, None, None)
