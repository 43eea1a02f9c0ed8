"""Every write to routine items: creating each period's items, ticking them off, drill results.

``routine_items_create`` is the beat job: it may run at any moment, twice, concurrently, late or
after a crash, because an item is named by (task, every, period start) under a unique
constraint and inserted with ``ON CONFLICT DO NOTHING``.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import TOP_TIER, staff_tier_level
from core import periods
from core.zones import local_date
from sla.durations import parse_duration
from sla.models import ServiceTargets
from sla.selectors import staff_service_ids
from tickets.attachments import attachment_fields, validate_uploads

from . import recovery
from .models import DEFAULT_TIER, Release, RoutineItem, RoutineTask

# How far back a run makes up for periods it never saw (beat down, the portal switched off):
# a month, so a missed week or month still gets its item — due already, so its owners hear of
# it — while a long-dead installation is not flooded with years of daily items on restart.
CATCH_UP = timedelta(days=31)
# A task's ``every`` (plan-format.md) → its kind of period: a day, an ISO week, a month, a
# quarter or a year of the service's zone, due when its last local day ends there.
EVERY = {
    "daily": periods.DAY,
    "weekly": periods.WEEK,
    "monthly": periods.MONTH,
    "quarterly": periods.QUARTER,
    "annually": periods.YEAR,
}


def owner_tier(task):
    """The task's tier, or the first line when the plan names none. Staff tiers are the groups
    Tier 1–3; a plan tier above them has no group of its own, so its items go to the top one."""
    return min(task.tier or DEFAULT_TIER, TOP_TIER)


@transaction.atomic
def routine_items_create(*, now=None, catch_up=CATCH_UP, service=None):
    """Create the item of every period, up to the current one, of every task in force (of
    ``service`` only, when given: a plan load makes its own service's items, not every one's).

    A period counts when it overlaps the last ``catch_up`` and the task's current form (a task
    loaded on Wednesday gets this week's item, not last week's). Retired tasks get nothing.
    Returns how many items this run found missing and inserted; two runs racing may both
    count a row the database keeps once (the other insert is dropped by ``ON CONFLICT DO
    NOTHING``).
    """
    now = now or timezone.now()
    window_start = now - catch_up
    tasks = (
        RoutineTask.objects.filter(retired_at__isnull=True)
        .exclude(every=RoutineTask.Every.ON_RELEASE)  # dated by releases, not by periods
        .select_related("service")
    )
    existing = RoutineItem.objects.filter(due_at__gt=window_start, release__isnull=True)
    if service is not None:
        tasks = tasks.filter(service=service)
        existing = existing.filter(service=service)
    candidates = {}
    for task in tasks:
        zone = task.service.timezone
        # The task as it stands since its last change (``updated_at``: the plan loader saves
        # only what changed), not since it was first loaded: a task the plan just made daily,
        # or put back after weeks out of it, must not get a month of days (or the weeks it was
        # out) as items already overdue, each emailed to its tier.
        since = max(window_start, task.updated_at)
        kind = period_kind(task.every)
        for period in periods.between(kind, local_date(since, zone), local_date(now, zone), zone):
            candidates[(task.pk, task.every, period.first)] = (task, period)
    if not candidates:
        return 0
    # Every candidate ends after ``window_start``, so the items already made are all in this
    # range of the due-time index: one read, and a second run inserts nothing.
    existing = set(existing.order_by().values_list("task_id", "every", "period_start"))
    # In key order: two runs inserting the same rows take their locks in the same order, so
    # one waits for the other instead of both waiting on each other (a deadlock).
    rows = [_item(*candidates[key], now) for key in sorted(candidates) if key not in existing]
    RoutineItem.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def period_kind(every):
    """The ``core.periods`` kind of a task's ``every`` (the plan's word for it)."""
    try:
        return EVERY[every]
    except KeyError:
        raise ValueError(
            f"{every!r} is not a routine period; use one of {', '.join(EVERY)}"
        ) from None


def _item(task, period, now):
    return RoutineItem(
        task=task,
        service_id=task.service_id,
        every=task.every,
        period_start=period.first,
        period_end=period.last,
        label=period.label,
        due_at=period.end,
        tier=owner_tier(task),
        recovery_test=recovery.is_recovery_test(name=task.name, category=task.category),
        created_at=now,
    )


@transaction.atomic
def release_record(*, task, name, released_at, by, now=None):
    """Staff record a release of an ``every: on_release`` task's kind ("security patches
    applied within 7 days of release"): a ``Release`` and its dated checklist item, due the
    task's ``within`` after ``released_at`` (real elapsed time), owned by the task's tier and
    reminded when overdue like every item. The same name twice for a task is refused."""
    now = now or timezone.now()
    if by is None or not by.is_active or not (by.is_superuser or staff_tier_level(by)):
        raise PermissionDenied("Only staff record releases.")
    works = staff_service_ids(by)
    if works is not None and task.service_id not in works:
        raise PermissionDenied("You do not work this service.")
    if task.every != RoutineTask.Every.ON_RELEASE or task.retired_at is not None or not task.within:
        raise ValidationError({"task": f"{task.name} is not a task done on each release."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the release (what was released)."})
    if released_at is None or released_at > now:
        raise ValidationError({"released_at": "A release time in the past is required."})
    if Release.objects.filter(task=task, name=name).exists():
        raise ValidationError({"name": f"{name} is already recorded for {task.name}."})
    release = Release.objects.create(
        task=task, name=name[:200], released_at=released_at, recorded_by=by, created_at=now
    )
    within = parse_duration(task.within)
    day = local_date(released_at, task.service.timezone)
    RoutineItem.objects.create(
        task=task,
        service_id=task.service_id,
        every=task.every,
        release=release,
        period_start=day,
        period_end=day,
        label=f"{name}"[:40],
        due_at=released_at + timedelta(minutes=within.minutes),
        tier=owner_tier(task),
        recovery_test=False,
        created_at=now,
    )
    return release


@transaction.atomic
def routine_item_complete(*, item, by, note="", evidence=None, now=None):
    """Tick an item off, with a note, a file as evidence, or both. Done once: a second tick
    is refused. A refused file (type, size, empty) changes nothing."""
    item = _locked(item, by)
    if item.done_at is not None:
        raise ValidationError(
            f"{item} was already ticked off on {item.done_at:%Y-%m-%d %H:%M} UTC"
            + (f" by {item.done_by.get_username()}." if item.done_by_id else ".")
        )
    note = (note or "").strip()
    if not note and not evidence:
        raise ValidationError({"note": "Say what was done, or attach a file as evidence."})
    if evidence:
        validate_uploads([evidence])
    item.done_at = now or timezone.now()
    item.done_by = by
    item.note = note
    fields = ["done_at", "done_by", "note"]
    if evidence:
        fields += _store_evidence(item, evidence)
    item.save(update_fields=fields)
    return item


def _store_evidence(item, upload):
    meta = attachment_fields(upload)
    item.evidence_token = meta["token"]
    item.evidence_name = meta["name"]
    item.evidence_content_type = meta["content_type"]
    item.evidence_size = meta["size"]
    # Last, after every check: a refused tick-off leaves no file behind.
    item.evidence.save(meta["token"], upload, save=False)
    return [
        "evidence",
        "evidence_token",
        "evidence_name",
        "evidence_content_type",
        "evidence_size",
    ]


@transaction.atomic
def routine_item_record_results(
    *, item, by, rto_achieved=None, rpo_achieved=None, recovery_class="", now=None
):
    """Record a DR drill's or restore test's RTO/RPO achieved, judged against the plan's
    targets (or one of its recovery classes) as they stand now. Recording again replaces the
    results: a corrected figure is judged afresh. ``*_achieved``: a timedelta or text as
    ``recovery.parse_achieved`` reads it (``45m``, ``1h30m``)."""
    item = _locked(item, by)
    if not item.recovery_test:
        raise ValidationError(f"{item} is not a DR drill or restore test; it has no RTO/RPO.")
    errors = {}
    achieved = {}
    for name, value in (("rto_achieved", rto_achieved), ("rpo_achieved", rpo_achieved)):
        if isinstance(value, str) and value.strip():
            try:
                value = recovery.parse_achieved(value)
            except ValueError as exc:
                errors[name] = str(exc)
                continue
        elif isinstance(value, str):
            value = None
        if value is not None and value < timedelta(0):
            errors[name] = "A time achieved cannot be negative."
            continue
        achieved[name] = value
    try:
        targets = recovery.targets_for(
            ServiceTargets.objects.filter(service_id=item.service_id).first(),
            (recovery_class or "").strip(),
        )
    except ValueError as exc:
        errors["recovery_class"] = str(exc)
    if errors:
        raise ValidationError(errors)
    if achieved["rto_achieved"] is None and achieved["rpo_achieved"] is None:
        raise ValidationError("Give the RTO achieved, the RPO achieved, or both.")
    item.recovery_class = targets.recovery_class
    item.rto_achieved = achieved["rto_achieved"]
    item.rpo_achieved = achieved["rpo_achieved"]
    item.rto_target = targets.rto
    item.rpo_target = targets.rpo
    item.rto_met = recovery.met(item.rto_achieved, targets.rto)
    item.rpo_met = recovery.met(item.rpo_achieved, targets.rpo)
    item.results_recorded_at = now or timezone.now()
    item.results_recorded_by = by
    item.save(
        update_fields=[
            "recovery_class",
            "rto_achieved",
            "rpo_achieved",
            "rto_target",
            "rpo_target",
            "rto_met",
            "rpo_met",
            "results_recorded_at",
            "results_recorded_by",
        ]
    )
    return item


def _locked(item, by):
    """The item re-read under its row lock, if ``by`` may work it (staff of its tier or above)."""
    level = staff_tier_level(by)
    if level is None:
        raise PermissionDenied("Only staff tick off routine tasks.")
    locked = RoutineItem.objects.select_for_update(of=("self",)).select_related(
        "task", "service", "done_by"
    )
    item = locked.get(pk=item.pk)
    if not by.is_superuser and item.tier > level:
        raise PermissionDenied(f"{item} belongs to Tier {item.tier}.")
    services = staff_service_ids(by)
    if services is not None and item.service_id not in services:
        raise PermissionDenied(f"{item} belongs to a service you do not work.")
    return item
