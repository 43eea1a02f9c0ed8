"""What the public status page says about every service, now.

Only published incidents count (``incidents.selectors`` reads no draft for the public). A
service's state is the worst of what is going on: an open outage incident, then an open
degraded (non-outage) incident, then maintenance in progress; otherwise operational. Its
``status`` says the same in Statuspage's component words: the worst impact of its open
incidents (major outage, partial outage, degraded performance), else under maintenance while
a window is in progress, else operational.
"""

from collections import defaultdict
from datetime import timedelta

from incidents.models import Impact
from maintenance.selectors import occurrence_display, occurrences_for_services
from sla.models import Service

UPCOMING = timedelta(days=14)
UPCOMING_SHOWN = 3


class State:
    OUTAGE = "outage"
    DEGRADED = "degraded"
    MAINTENANCE = "maintenance"
    OPERATIONAL = "operational"


def service_state(*, open_incidents, maintenance_now):
    if any(incident.outage for incident in open_incidents):
        return State.OUTAGE
    if open_incidents:
        return State.DEGRADED
    if maintenance_now:
        return State.MAINTENANCE
    return State.OPERATIONAL


# Statuspage's component statuses, least to most severe: the worst one wins.
SEVERITY = [
    Impact.OPERATIONAL,
    Impact.UNDER_MAINTENANCE,
    Impact.DEGRADED_PERFORMANCE,
    Impact.PARTIAL_OUTAGE,
    Impact.MAJOR_OUTAGE,
]


def component_status(*, open_incidents, maintenance_now):
    """The service's status in Statuspage's words (an ``Impact``)."""
    worst = Impact.UNDER_MAINTENANCE if maintenance_now else Impact.OPERATIONAL
    for incident in open_incidents:
        if SEVERITY.index(incident.impact) > SEVERITY.index(worst):
            worst = Impact(incident.impact)
    return worst


def status_rows(*, now, incident_groups=(), zone_name=""):
    """One row per service: state, open incidents, maintenance in progress and coming up (two
    queries). Maintenance times are in ``zone_name`` (the reader's), else the service's own.

    ``incident_groups`` is the incidents part of the page (incidents.selectors.status_incidents
    ["services"]), so the incidents are read once for both.
    """
    services = list(Service.objects.order_by("name"))
    by_service = defaultdict(list)
    for o in occurrences_for_services(services=services, start=now, end=now + UPCOMING):
        if not o.cancelled:
            by_service[o.window.service_id].append(o)
    open_by_service = {
        group["service"].pk: [i for i in group["incidents"] if i.resolved_at is None]
        for group in incident_groups
    }
    rows = []
    for service in services:
        own = by_service[service.pk]
        current = [o for o in own if o.in_progress(now)]
        upcoming = [o for o in own if o.starts_at > now][:UPCOMING_SHOWN]
        open_incidents = open_by_service.get(service.pk, [])
        rows.append(
            {
                "service": service,
                "state": service_state(open_incidents=open_incidents, maintenance_now=current),
                "status": component_status(open_incidents=open_incidents, maintenance_now=current),
                "open_incidents": open_incidents,
                "current": [
                    occurrence_display(o, zone_name or service.timezone, now) for o in current
                ],
                "upcoming": [
                    occurrence_display(o, zone_name or service.timezone, now) for o in upcoming
                ],
            }
        )
    return rows
