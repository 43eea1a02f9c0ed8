"""Every non-trivial read of maintenance data.

Occurrences are expanded in Python from the windows and their exceptions, read in two queries
for any number of services (``occurrences_for_services``).
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from django.db.models import Exists, OuterRef, Q

from accounts.selectors import user_timezone
from core.zones import zone
from sla.models import Service, ServiceCustomer
from sla.plan import rules
from sla.selectors import customer_services

from .models import (
    MaintenancePolicy,
    MaintenanceWindow,
    NoticeDelivery,
    OccurrenceException,
    Subscription,
)
from .occurrences import apply_exceptions


def _service(service):
    if isinstance(service, Service):
        return service
    return Service.objects.get(slug=service)


def window_occurrences(*, service, start, end):
    """The maintenance occurrences of ``service`` (object or slug) overlapping ``[start, end)``.

    Each has ``starts_at``, ``ends_at`` (aware, UTC), ``window`` and ``cancelled``; cancelled
    ones are included (flagged), moved ones at their new time. Sorted by start.
    """
    return occurrences_for_services(services=[_service(service)], start=start, end=end)


def occurrences_for_services(*, services=None, start, end, windows=None):
    """Occurrences of the active windows of ``services`` (None: every service), sorted by start.

    Two queries whatever the number of services: the windows (with their services) and their
    exceptions. ``windows`` skips the first when the caller has them already.
    """
    if windows is None:
        windows = MaintenanceWindow.objects.filter(is_active=True).select_related("service")
        if services is not None:
            windows = windows.filter(service__in=[s.pk for s in services])
        windows = list(windows)
    if not windows:
        return []
    exceptions = defaultdict(dict)
    for exc in OccurrenceException.objects.filter(window__in=[w.pk for w in windows]):
        exceptions[exc.window_id][exc.original_start] = exc
    occurrences = []
    for window in windows:
        # Moves into or out of the range are applied from the exceptions themselves.
        slots = window.slots(start, end)
        occurrences.extend(
            apply_exceptions(window, slots, exceptions.get(window.pk, {}), start, end)
        )
    occurrences.sort(key=lambda o: (o.starts_at, o.window.service_id, o.window.position))
    return occurrences


def occurrence_get(*, window, original_start):
    """The occurrence of ``window`` that the rule places at ``original_start``, or None."""
    slots = window.slots(original_start, original_start + timedelta(minutes=1))
    slot = next((s for s in slots if s.starts_at == original_start), None)
    if slot is None:
        return None
    exceptions = {
        exc.original_start: exc
        for exc in OccurrenceException.objects.filter(window=window, original_start=original_start)
    }
    everything = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    occurrences = apply_exceptions(window, [slot], exceptions, *everything)
    return occurrences[0] if occurrences else None


def policies_by_service(service_ids=None):
    policies = MaintenancePolicy.objects.all()
    if service_ids is not None:
        policies = policies.filter(service_id__in=service_ids)
    return {policy.service_id: policy for policy in policies}


def policy_leads(policy):
    """The policy's lead times as (text, timedelta), longest first."""
    if policy is None:
        return []
    leads = [(lead, timedelta(minutes=rules.duration_minutes(lead))) for lead in policy.notices]
    return sorted(leads, key=lambda pair: pair[1], reverse=True)


# What a subscriber may choose to hear: the Subscription field that says they want it.
TOPICS = ("maintenance", "incidents")


def _wanting(topic):
    if topic not in TOPICS:
        raise ValueError(f"unknown subscription topic {topic!r}")
    return Q(**{topic: True})


def subscribers_for_notice(*, service_id, after, limit, topic):
    """The next ``limit`` active subscribers of a service who want ``topic`` ("maintenance"
    or "incidents"), by id: (id, address, token, customer) rows, ``customer`` true for a
    customer's subscription (made with their membership) rather than an address's.

    A customer's subscription counts while they are an active customer of the service.
    """
    member = ServiceCustomer.objects.filter(service_id=service_id, customer_id=OuterRef("user_id"))
    rows = (
        Subscription.objects.filter(
            _wanting(topic),
            service_id=service_id,
            pk__gt=after,
            confirmed_at__isnull=False,
            unsubscribed_at__isnull=True,
        )
        .filter(Q(user__isnull=True) | (Q(user__is_active=True) & Exists(member)))
        .order_by("pk")
        .values_list("pk", "email", "user__email", "token")[:limit]
    )
    return [
        (pk, user_email or email, token, user_email is not None)
        for pk, email, user_email, token in rows
    ]


def subscribers_notified(*, round_ids, after, limit):
    """The next ``limit`` still-subscribed recipients of the given rounds, by subscription id:
    (id, address, token, customer) rows as ``subscribers_for_notice``. Someone who has since
    chosen not to hear of maintenance is left out, as they would be from a new notice."""
    notified = NoticeDelivery.objects.filter(round_id__in=round_ids, subscription_id=OuterRef("pk"))
    rows = (
        Subscription.objects.filter(
            _wanting("maintenance"), pk__gt=after, unsubscribed_at__isnull=True
        )
        .filter(Exists(notified))
        .order_by("pk")
        .values_list("pk", "email", "user__email", "token")[:limit]
    )
    return [
        (pk, user_email or email, token, user_email is not None)
        for pk, email, user_email, token in rows
    ]


def customer_subscriptions(*, user):
    """(service, subscription or None) for each service ``user`` is a customer of, by name:
    two queries whatever the number of services."""
    services = customer_services(user)
    by_service = {
        sub.service_id: sub
        for sub in Subscription.objects.filter(user=user, service__in=[s.pk for s in services])
    }
    return [(service, by_service.get(service.pk)) for service in services]


def subscription_for_user(*, service, user):
    return Subscription.objects.filter(service=service, user=user).first()


def services_of_user(user):
    """Ids of the services ``user`` is a customer of (one query a request, shared with the page)."""
    return [service.pk for service in customer_services(user)]


def viewer_timezone(user):
    """The zone a signed-in user chose on their profile, or "" (then each service's own)."""
    name = user_timezone(user=user)
    try:
        zone(name) if name else None
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return ""
    return name


def banner_occurrences(*, service_ids, now):
    """Per service: the occurrences whose banner shows at some moment of the next minutes.

    A banner shows from the first notice (the longest lead time) to the window's end, when the
    service's policy has the ``banner`` channel. Cached per service by the context processor.
    """
    policies = {
        sid: policy
        for sid, policy in policies_by_service(service_ids).items()
        if "banner" in (policy.channels or ())
    }
    result = {sid: [] for sid in service_ids}
    if not policies:
        return result
    # policy_leads is longest first; a policy with no lead times shows from the start.
    longest = {
        sid: next((lead for _, lead in policy_leads(p)), timedelta(0))
        for sid, p in policies.items()
    }
    horizon = max(longest.values()) + timedelta(minutes=10)
    windows = list(
        MaintenanceWindow.objects.filter(
            is_active=True, service_id__in=list(policies)
        ).select_related("service")
    )
    for occurrence in occurrences_for_services(start=now, end=now + horizon, windows=windows):
        if occurrence.cancelled:
            continue
        sid = occurrence.window.service_id
        shows_from = occurrence.starts_at - longest[sid]
        if shows_from <= now + timedelta(minutes=10):
            result[sid].append(
                {
                    "service": occurrence.window.service.name,
                    "service_tz": occurrence.window.service.timezone,
                    "window": occurrence.window.name,
                    "impact": occurrence.window.impact,
                    "shows_from": shows_from,
                    "starts_at": occurrence.starts_at,
                    "ends_at": occurrence.ends_at,
                }
            )
    return result


def occurrence_display(occurrence, tz_name, now):
    """An occurrence as the calendar and status pages show it: local times in ``tz_name``."""
    tz = zone(tz_name)
    starts = occurrence.starts_at.astimezone(tz).replace(tzinfo=None)
    ends = occurrence.ends_at.astimezone(tz).replace(tzinfo=None)
    return {
        "occurrence": occurrence,
        "window": occurrence.window,
        "service": occurrence.window.service,
        "starts": starts,
        "ends": ends,
        "same_day": starts.date() == ends.date(),
        "timezone": tz_name,
        "in_progress": occurrence.in_progress(now),
        "cancelled": occurrence.cancelled,
        "moved": occurrence.moved,
    }
