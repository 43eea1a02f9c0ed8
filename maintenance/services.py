"""Every write to maintenance data.

``maintenance_apply_plan`` is this app's part of loading a plan file (the ``maintenance``
section; ``routine_tasks`` are routine's, see ``routine.plan``); it runs inside
``sla.plan.apply.plans_apply``'s transaction, which reaches it through the section registered
in ``MaintenanceConfig.ready``.
"""

import logging
from functools import partial

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.zones import zone
from notifications.rendering import absolute_url
from notifications.services import notification_create
from sla.plan import rules
from sla.plan.apply import sync, upsert
from sla.plan.rules import RuleError

from . import emails
from .models import (
    MaintenancePolicy,
    MaintenanceWindow,
    NoticeRound,
    OccurrenceException,
    Subscription,
)
from .occurrences import notice_round_key
from .selectors import occurrence_get

logger = logging.getLogger(__name__)


@transaction.atomic
def maintenance_apply_plan(*, service, plan, now, report):
    """Make the service's maintenance policy and windows match ``plan``.

    Windows are keyed on their names; one the plan no longer lists is deactivated, never
    deleted, so notices already sent keep their window.
    A deactivated window's coming occurrences are cancelled for whoever was told of them.
    """
    _apply_policy(service, plan.maintenance, report)
    windows = plan.maintenance.windows if plan.maintenance else ()
    _apply_windows(service, windows, now, report)
    # Windows may have changed: the banner reads them afresh rather than within a minute.
    transaction.on_commit(partial(banner_cache_clear, service_id=service.pk))


def _apply_policy(service, spec, report):
    existing = {row.service_id: row for row in MaintenancePolicy.objects.filter(service=service)}
    if spec is None:
        if existing:
            existing[service.pk].delete()
            report.retired += 1
        return
    upsert(
        MaintenancePolicy,
        existing,
        service.pk,
        {
            "notices": list(spec.notices),
            "channels": list(spec.channels),
            "quarterly_digest": spec.quarterly_digest or "",
            "allowed": spec.allowed or "",
        },
        report,
        service=service,
    )


def _apply_windows(service, specs, now, report):
    existing = {window.name: window for window in service.maintenance_windows.all()}
    for position, spec in enumerate(specs):
        upsert(
            MaintenanceWindow,
            existing,
            spec.name,
            {
                "category": spec.category,
                "rrule": spec.rrule or "",
                "date": spec.date,
                "start": spec.start,
                "duration": spec.duration,
                "timezone": spec.timezone,
                "impact": spec.impact,
                "is_active": True,
                "position": position,
            },
            report,
            service=service,
            name=spec.name,
        )
    listed = {spec.name for spec in specs}
    for name, window in existing.items():
        if name not in listed and window.is_active:
            _lock_window(window)
            sync(window, {"is_active": False}, report)
            # A deactivation is counted as retired, not as an update.
            report.updated -= 1
            report.retired += 1
            _cancel_announced(window, now)


def _cancel_announced(window, now):
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


def maintenance_export_plan(*, service):
    """This app's part of the service's plan file, as plain data (see ``sla.plan.export``)."""
    tree = {}
    policy = MaintenancePolicy.objects.filter(service=service).first()
    windows = list(service.maintenance_windows.filter(is_active=True).order_by("position"))
    if policy is not None or windows:
        section = {}
        if policy is not None:
            section["notices"] = list(policy.notices)
            section["channels"] = list(policy.channels)
            if policy.quarterly_digest:
                section["quarterly_digest"] = policy.quarterly_digest
            if policy.allowed:
                section["allowed"] = policy.allowed
        section["windows"] = [_window_tree(window) for window in windows]
        tree["maintenance"] = section
    return tree


def _window_tree(window):
    entry = {"name": window.name, "category": window.category}
    if window.rrule:
        entry["rrule"] = window.rrule
    else:
        entry["date"] = window.date
    entry["start"] = window.start.strftime("%H:%M")
    entry["duration"] = window.duration
    entry["timezone"] = window.timezone
    if window.impact:
        entry["impact"] = window.impact
    return entry


# --- Occurrences: cancel, move ---------------------------------------------------------------


@transaction.atomic
def occurrence_cancel(*, window, starts_at, by, reason=""):
    """Cancel one occurrence (named by its original start) of a recurring or one-off window.

    Subscribers who were sent a notice of it get a cancellation email, once.
    """
    _lock_window(window)
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
    _lock_window(window)
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


def _lock_window(window):
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


def banner_cache_clear(*, service_id):
    cache.delete(banner_cache_key(service_id))


def banner_cache_key(service_id):
    return f"maintenance:banner:{service_id}"


# --- Subscriptions ---------------------------------------------------------------------------


@transaction.atomic
def subscription_ensure_for_customer(*, service, customer):
    """Subscribe a customer of ``service`` to its notices, unless they unsubscribed before."""
    subscription, _ = Subscription.objects.get_or_create(
        service=service,
        user=customer,
        defaults={"confirmed_at": timezone.now()},
    )
    return subscription


def topics_words(*, maintenance, incidents):
    """What a subscription hears, in words: "incident updates and maintenance notices"."""
    words = [
        word
        for word, wanted in (("incident updates", incidents), ("maintenance notices", maintenance))
        if wanted
    ]
    return " and ".join(words)


class StaleConfirmation(Exception):
    """A confirm link issued before the subscription was last turned off."""


def _turn_off(subscription, *, at):
    """Stop the notices; the confirm links sent so far stop working (``confirm_version``)."""
    subscription.unsubscribed_at = at
    subscription.confirm_version += 1


@transaction.atomic
def subscription_request(*, service, email, maintenance=True, incidents=True):
    """Start a double opt-in: record the address and what it wants to hear (maintenance,
    incidents or both), and email it a signed confirmation link.

    Says nothing about whether the address was subscribed already (no address probing); an
    active subscription is left as it is and gets no mail (what it hears is changed from its
    emails' manage link, which only its owner has). The link confirms only the state it was
    sent for: an unsubscribe after it voids it, and asking again sends a new one.
    """
    if not (maintenance or incidents):
        raise ValueError("a subscription hears of maintenance, incidents or both")
    email = email.strip().lower()
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        service=service, user=None, email=email
    )
    if subscription.active:
        return subscription
    subscription.maintenance, subscription.incidents = bool(maintenance), bool(incidents)
    subscription.save(update_fields=["maintenance", "incidents"])
    confirm_url = absolute_url(
        reverse("maintenance:subscription_confirm", args=[emails.confirm_token(subscription)])
    )
    # One confirmation a day per address and version, however often the form is sent.
    notification_create(
        key=(
            f"maint:confirm:{subscription.pk}:v{subscription.confirm_version}"
            f":{timezone.now():%Y%m%d}"
        ),
        to=email,
        template="maintenance/confirm",
        context={
            "service": service,
            "confirm_url": confirm_url,
            "hear": topics_words(maintenance=maintenance, incidents=incidents),
        },
    )
    return subscription


@transaction.atomic
def subscription_confirm(*, token):
    """Confirm a subscription from its emailed link.

    Raises ``signing.BadSignature`` if forged or expired, ``Subscription.DoesNotExist`` if
    gone, ``StaleConfirmation`` if the subscription was turned off after the link was sent
    (whoever unsubscribed meant it; an old link must not undo that).
    """
    subscription_token, version = emails.confirm_token_read(token)
    subscription = (
        Subscription.objects.select_for_update()
        .select_related("service")
        .get(token=subscription_token)
    )
    if version != subscription.confirm_version:
        raise StaleConfirmation
    if not subscription.active:
        subscription.confirmed_at = timezone.now()
        subscription.unsubscribed_at = None
        subscription.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return subscription


@transaction.atomic
def subscription_unsubscribe(*, token):
    """One-click unsubscribe from a signed link; raises ``signing.BadSignature`` if forged."""
    subscription = Subscription.objects.select_for_update().get(
        token=emails.unsubscribe_token_read(token)
    )
    if subscription.unsubscribed_at is None:
        _turn_off(subscription, at=timezone.now())
        subscription.save(update_fields=["unsubscribed_at", "confirm_version"])
    return subscription


def _choose(subscription, *, maintenance, incidents, at):
    """Set what a subscription hears; hearing nothing is unsubscribing (its confirm links
    stop working, as after any unsubscribe), hearing something again turns it back on."""
    subscription.maintenance, subscription.incidents = bool(maintenance), bool(incidents)
    if not (maintenance or incidents):
        if subscription.unsubscribed_at is None:
            _turn_off(subscription, at=at)
    else:
        subscription.unsubscribed_at = None


@transaction.atomic
def subscription_choose(*, service, user, maintenance, incidents):
    """A customer chooses what they hear of one of their services: maintenance, incidents,
    both or nothing (the portal's subscriptions page)."""
    subscription = subscription_ensure_for_customer(service=service, customer=user)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    _choose(subscription, maintenance=maintenance, incidents=incidents, at=timezone.now())
    subscription.confirmed_at = subscription.confirmed_at or timezone.now()
    subscription.save(
        update_fields=[
            "maintenance",
            "incidents",
            "unsubscribed_at",
            "confirmed_at",
            "confirm_version",
        ]
    )
    return subscription


@transaction.atomic
def subscription_choose_by_token(*, token, maintenance, incidents):
    """Someone following an email's manage link chooses what they hear (no login: the signed
    token is the credential, as for unsubscribing). Raises ``signing.BadSignature`` if forged.
    A subscription that was never confirmed stays unconfirmed."""
    subscription = Subscription.objects.select_for_update().get(
        token=emails.unsubscribe_token_read(token)
    )
    _choose(subscription, maintenance=maintenance, incidents=incidents, at=timezone.now())
    subscription.save(
        update_fields=["maintenance", "incidents", "unsubscribed_at", "confirm_version"]
    )
    return subscription


@transaction.atomic
def subscription_set(*, service, user, subscribed):
    """A customer turns a service's notices on or off from the portal."""
    subscription = subscription_ensure_for_customer(service=service, customer=user)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscribed:
        subscription.unsubscribed_at = None
    elif subscription.unsubscribed_at is None:
        _turn_off(subscription, at=timezone.now())
    subscription.confirmed_at = subscription.confirmed_at or timezone.now()
    subscription.save(update_fields=["unsubscribed_at", "confirmed_at", "confirm_version"])
    return subscription
