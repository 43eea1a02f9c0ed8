"""Reads of incidents: their process and what the status page shows.

Nothing here is scoped to a customer: an incident's public side (public updates, published
post-mortems) is public, and staff read the rest in admin. Internal notes never leave here
except through the admin's own querysets.
"""

from datetime import timedelta

from django.db.models import Prefetch

from sla.models import IncidentPolicy

from .models import Incident, IncidentUpdate, Postmortem, PostmortemAction
from .steps import steps_of

# Resolved incidents stay on the status page this long, with their last updates.
STATUS_RESOLVED_FOR = timedelta(hours=24)
STATUS_POSTMORTEMS_SINCE = timedelta(days=90)
STATUS_POSTMORTEMS_MAX = 10


def incident_policy(service_id):
    return IncidentPolicy.objects.filter(service_id=service_id).first()


def incident_steps(service_id):
    """The steps of the service's incident process (its plan's, or the default)."""
    return steps_of(incident_policy(service_id))


def status_incidents(*, now):
    """The status page's incidents: open ones (and those resolved in the last day) grouped by
    service, each with its public updates newest first; and the recent published post-mortems.

    Four queries whatever the number of incidents and updates.
    """
    public_updates = Prefetch(
        "updates",
        queryset=IncidentUpdate.objects.filter(public=True).order_by("-created_at", "-id"),
        to_attr="public_updates",
    )
    open_or_recent = Incident.objects.filter(resolved_at__isnull=True) | Incident.objects.filter(
        resolved_at__gte=now - STATUS_RESOLVED_FOR
    )
    incidents = list(
        open_or_recent.select_related("service", "severity")
        .prefetch_related(public_updates)
        .order_by("service__name", "service_id", "-started_at", "-id")
    )
    by_service = []
    for incident in incidents:
        if not by_service or by_service[-1]["service"].pk != incident.service_id:
            by_service.append({"service": incident.service, "incidents": []})
        by_service[-1]["incidents"].append(incident)
    postmortems = list(
        Postmortem.objects.filter(published_at__gte=now - STATUS_POSTMORTEMS_SINCE)
        .select_related("incident__service", "incident__severity")
        .prefetch_related(Prefetch("actions", queryset=PostmortemAction.objects.order_by("id")))
        .order_by("-published_at", "-id")[:STATUS_POSTMORTEMS_MAX]
    )
    return {
        "services": by_service,
        "postmortems": postmortems,
    }


def incidents_of_ticket(ticket):
    """The incidents a ticket is linked to, newest first (one query)."""
    return list(ticket.incidents.select_related("severity").order_by("-started_at", "-id"))
