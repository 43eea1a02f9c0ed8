"""The reads uptime needs, a fixed number of queries for any number of services and days.

One query reads every published outage incident overlapping the range for all the services
(a draft is unconfirmed and not public: it counts once it is published, from its start); the planned
maintenance comes from ``maintenance.selectors.occurrences_for_services`` (two queries); the
targets are one query each for the overall (with its strictness) and the per-priority ones.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from incidents.models import Incident
from maintenance.selectors import occurrences_for_services
from sla.models import Priority, ServiceTargets


@dataclass(frozen=True)
class Outage:
    started_at: datetime
    resolved_at: datetime | None  # None while the outage lasts
    severity_position: int  # the priority's place in the plan: 0 is the most urgent


def outages_by_service(*, service_ids, start, end):
    """Per service id: the published outage incidents whose span overlaps ``[start, end)``
    (one query)."""
    rows = (
        Incident.objects.filter(
            service_id__in=service_ids,
            outage=True,
            published_at__isnull=False,
            started_at__lt=end,
        )
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
        .order_by()
        .values_list("service_id", "started_at", "resolved_at", "severity__position")
    )
    result = defaultdict(list)
    for service_id, started_at, resolved_at, position in rows:
        result[service_id].append(Outage(started_at, resolved_at, position))
    return result


def planned_maintenance_by_service(*, services, start, end):
    """Per service id: ``(starts_at, ends_at)`` of its maintenance occurrences overlapping
    ``[start, end)``. A cancelled occurrence was not planned downtime and is left out; a moved
    one counts at its new time."""
    result = defaultdict(list)
    for occurrence in occurrences_for_services(services=services, start=start, end=end):
        if not occurrence.cancelled:
            result[occurrence.window.service_id].append((occurrence.starts_at, occurrence.ends_at))
    return result


def overall_targets(*, service_ids):
    """Per service id: ``(percent, strict)``, the plan's ``targets.uptime`` and whether it was
    written strictly (``">99.9"``: exactly on it is missed). Absent: no overall target."""
    return {
        service_id: (uptime, "uptime" in (strict or ()))
        for service_id, uptime, strict in ServiceTargets.objects.filter(
            service_id__in=service_ids, uptime__isnull=False
        ).values_list("service_id", "uptime", "strict")
    }


def priority_targets(*, service_ids):
    """Per service id: its current priorities that promise an uptime, most urgent first."""
    result = defaultdict(list)
    for priority in Priority.objects.filter(
        service_id__in=service_ids, uptime__isnull=False, retired_at__isnull=True
    ).order_by("service_id", "position"):
        result[priority.service_id].append(priority)
    return result
