"""The status page as Atlassian Statuspage's public v2 JSON documents (``/api/v2/*.json``).

Existing Statuspage clients, widgets and badges read these, so the shapes and the status words
are Statuspage's own (its documented examples are pinned key by key in
``tests/status/test_statuspage_api.py``):

- ``page``: ``{id, name, url, time_zone, updated_at}``;
- ``status``: ``{indicator, description}``, indicator ``none`` · ``minor`` · ``major`` ·
  ``critical`` · ``maintenance``;
- a **component** per service (id: its slug), status ``operational`` ·
  ``degraded_performance`` · ``partial_outage`` · ``major_outage`` · ``under_maintenance``;
- an **incident** per published incident, with its public updates (``incident_updates``,
  newest first), status ``investigating`` · ``identified`` · ``monitoring`` · ``resolved``,
  impact ``none`` · ``minor`` · ``major`` · ``critical``;
- a **scheduled maintenance** per maintenance occurrence (id ``<window>-<original start>``),
  status ``scheduled`` · ``in_progress`` · ``completed``, impact ``maintenance``.

Only published incidents appear (``incidents.selectors``); internal notes never. Everything
here is built from reads done by the callers' selectors: no query in this module but the
ones named in each function.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from incidents.models import Impact
from incidents.selectors import public_incidents, status_incidents
from maintenance.selectors import occurrences_for_services
from notifications.rendering import absolute_url

from .selectors import status_rows

# How many incidents and maintenances the list endpoints give, as Statuspage does.
LIST_LIMIT = 50
MAINTENANCE_PAST = timedelta(days=30)
MAINTENANCE_AHEAD = timedelta(days=90)

# A component's status → the incident impact Statuspage names for it.
INCIDENT_IMPACT = {
    Impact.OPERATIONAL: "none",
    Impact.DEGRADED_PERFORMANCE: "minor",
    Impact.PARTIAL_OUTAGE: "major",
    Impact.MAJOR_OUTAGE: "critical",
    Impact.UNDER_MAINTENANCE: "maintenance",
}
# The page's indicator and description, from its worst component status.
INDICATOR = {
    Impact.OPERATIONAL: ("none", "All Systems Operational"),
    Impact.UNDER_MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    Impact.DEGRADED_PERFORMANCE: ("minor", "Minor Service Outage"),
    Impact.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    Impact.MAJOR_OUTAGE: ("critical", "Major Service Outage"),
}
SEVERITY = list(INDICATOR)


def iso(moment):
    return moment.isoformat() if moment is not None else None


def page_id():
    """A stable id for this portal's page (Statuspage's are 12 characters)."""
    return hashlib.sha256(settings.SITE_URL.encode()).hexdigest()[:12]


def page(now):
    return {
        "id": page_id(),
        "name": "Service status",
        "url": absolute_url(reverse("status")),
        "time_zone": "Etc/UTC",
        "updated_at": iso(now),
    }


def indicator(statuses):
    worst = max(statuses, key=SEVERITY.index, default=Impact.OPERATIONAL)
    word, description = INDICATOR[Impact(worst)]
    return {"indicator": word, "description": description}


def component(row, position):
    service = row["service"]
    return {
        "id": service.slug,
        "name": service.name,
        "status": str(row["status"]),
        "created_at": iso(service.created_at),
        "updated_at": iso(service.updated_at),
        "position": position,
        "description": None,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "page_id": page_id(),
        "group": False,
        "only_show_if_degraded": False,
    }


def components(rows):
    return [component(row, position) for position, row in enumerate(rows, start=1)]


def _component_ref(service):
    """A service as an incident's ``components`` entry (the component's own shape)."""
    return {
        "id": service.slug,
        "name": service.name,
        "status": None,  # filled in by the caller with the service's current status
        "created_at": iso(service.created_at),
        "updated_at": iso(service.updated_at),
        "position": None,
        "description": None,
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "page_id": page_id(),
        "group": False,
        "only_show_if_degraded": False,
    }


def incident(item, *, current_status):
    """A published incident (``public_updates`` prefetched, newest first)."""
    updates = item.public_updates
    monitoring = [u.created_at for u in updates if u.status == "monitoring"]
    last_public = updates[0].created_at if updates else item.published_at
    ref = _component_ref(item.service)
    ref["status"] = str(current_status.get(item.service_id, Impact.OPERATIONAL))
    return {
        "id": str(item.pk),
        "name": item.title,
        "status": str(item.current_status),
        "created_at": iso(item.published_at),
        "updated_at": iso(max(filter(None, [last_public, item.resolved_at]))),
        "monitoring_at": iso(min(monitoring)) if monitoring else None,
        "resolved_at": iso(item.resolved_at),
        "impact": INCIDENT_IMPACT[Impact(item.impact)],
        "shortlink": absolute_url(reverse("status_incident", args=[item.pk])),
        "started_at": iso(item.started_at),
        "page_id": page_id(),
        "incident_updates": [incident_update(update, item) for update in updates],
        "components": [ref],
    }


def incident_update(update, item):
    return {
        "id": str(update.pk),
        "status": update.status,
        "body": update.body,
        "incident_id": str(item.pk),
        "created_at": iso(update.created_at),
        "updated_at": iso(update.created_at),
        "display_at": iso(update.created_at),
        "affected_components": [
            {
                "code": item.service.slug,
                "name": item.service.name,
                "old_status": "operational",
                "new_status": "operational" if update.status == "resolved" else item.impact,
            }
        ],
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def maintenance_status(occurrence, now):
    if occurrence.ends_at <= now:
        return "completed"
    if occurrence.starts_at <= now:
        return "in_progress"
    return "scheduled"


def maintenance(occurrence, now):
    window = occurrence.window
    service = window.service
    status = maintenance_status(occurrence, now)
    ident = f"{window.pk}-{occurrence.original_start:%Y%m%dT%H%M%SZ}"
    announced = min(window.created_at, occurrence.starts_at)
    body = window.impact or f"{window.name}: planned maintenance of {service.name}."
    ref = _component_ref(service)
    ref["status"] = "under_maintenance" if status == "in_progress" else "operational"
    return {
        "id": ident,
        "name": f"{service.name}: {window.name}",
        "status": status,
        "created_at": iso(announced),
        "updated_at": iso(window.updated_at),
        "monitoring_at": None,
        "resolved_at": iso(occurrence.ends_at) if status == "completed" else None,
        "impact": "maintenance",
        "shortlink": absolute_url(reverse("maintenance:calendar")),
        "started_at": iso(occurrence.starts_at),
        "page_id": page_id(),
        "incident_updates": [
            {
                "id": f"{ident}-{status}",
                "status": status,
                "body": body,
                "incident_id": ident,
                "created_at": iso(announced),
                "updated_at": iso(window.updated_at),
                "display_at": iso(announced),
                "affected_components": None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
        ],
        "components": [ref],
        "scheduled_for": iso(occurrence.starts_at),
        "scheduled_until": iso(occurrence.ends_at),
    }


def maintenances(now, *, which="all"):
    """Non-cancelled occurrences: ``all`` (the last 30 days and the next 90, newest first),
    ``upcoming`` (scheduled, soonest first) or ``active`` (in progress). Two queries."""
    start = now - MAINTENANCE_PAST if which == "all" else now
    end = now + MAINTENANCE_AHEAD if which != "active" else now + timedelta(seconds=1)
    found = [o for o in occurrences_for_services(start=start, end=end) if not o.cancelled]
    if which == "upcoming":
        found = [o for o in found if o.starts_at > now]
    elif which == "active":
        found = [o for o in found if o.starts_at <= now < o.ends_at]
    else:
        found.sort(key=lambda o: o.starts_at, reverse=True)
    return [maintenance(o, now) for o in found[:LIST_LIMIT]]


def current(now):
    """The reads every document shares: the status rows (with their open published incidents)
    and each service's current status."""
    groups = status_incidents(now=now)["services"]
    rows = status_rows(now=now, incident_groups=groups)
    return rows, {row["service"].pk: row["status"] for row in rows}


def incidents(now, *, unresolved=False):
    _rows, statuses = current(now)
    found = public_incidents(resolved=False if unresolved else None)[:LIST_LIMIT]
    return [incident(item, current_status=statuses) for item in found]


def document(kind, now):
    """The JSON document of one endpoint: ``summary``, ``status``, ``components``,
    ``incidents``, ``incidents/unresolved``, ``scheduled-maintenances`` (and ``/upcoming``,
    ``/active``)."""
    doc = {"page": page(now)}
    if kind in ("summary", "status", "components"):
        rows, statuses = current(now)
        if kind in ("summary", "components"):
            doc["components"] = components(rows)
        if kind == "summary":
            open_incidents = public_incidents(resolved=False)[:LIST_LIMIT]
            doc["incidents"] = [incident(i, current_status=statuses) for i in open_incidents]
            doc["scheduled_maintenances"] = maintenances(now, which="active") + maintenances(
                now, which="upcoming"
            )
        if kind in ("summary", "status"):
            doc["status"] = indicator(statuses.values())
        return doc
    if kind == "incidents":
        doc["incidents"] = incidents(now)
    elif kind == "incidents/unresolved":
        doc["incidents"] = incidents(now, unresolved=True)
    elif kind == "scheduled-maintenances":
        doc["scheduled_maintenances"] = maintenances(now)
    elif kind == "scheduled-maintenances/upcoming":
        doc["scheduled_maintenances"] = maintenances(now, which="upcoming")
    elif kind == "scheduled-maintenances/active":
        doc["scheduled_maintenances"] = maintenances(now, which="active")
    else:
        raise KeyError(kind)
    return doc


KINDS = [
    "summary",
    "status",
    "components",
    "incidents",
    "incidents/unresolved",
    "scheduled-maintenances",
    "scheduled-maintenances/upcoming",
    "scheduled-maintenances/active",
]
