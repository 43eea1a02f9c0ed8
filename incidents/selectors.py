"""Reads of incidents: their process and what the status page shows.

Nothing here is scoped to a customer: a published incident's public side (public updates,
published post-mortems) is public, and staff read the rest in admin. Internal notes and draft
incidents never leave here except through the admin's own querysets: every public read starts
from ``published_incidents()``.
"""

from datetime import timedelta

from django.db.models import Prefetch, Q

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


def published_incidents():
    """Every incident the public may see: the published ones. Drafts are never public."""
    return Incident.objects.filter(published_at__isnull=False)


def public_updates_prefetch(*, newest_first=True):
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    return Prefetch(
        "updates",
        queryset=IncidentUpdate.objects.filter(public=True).order_by(*order),
        to_attr="public_updates",
    )


def public_incident_get(*, incident_id):
    """A published incident with its public updates (newest first) and its published
    post-mortem (``public_postmortem``, None when there is none); None for a draft or none."""
    incident = (
        published_incidents()
        .filter(pk=incident_id)
        .select_related("service", "severity")
        .prefetch_related(public_updates_prefetch())
        .first()
    )
    if incident is None:
        return None
    incident.public_postmortem = (
        Postmortem.objects.filter(incident=incident, published_at__isnull=False)
        .prefetch_related(Prefetch("actions", queryset=PostmortemAction.objects.order_by("id")))
        .first()
    )
    return incident


def public_incidents(*, service_ids=None, resolved=None, since=None):
    """Published incidents newest first, with service, severity and public updates (newest
    first) prefetched; ``resolved`` True/False keeps only resolved/open ones, ``since`` only
    those still open or resolved since then. A queryset: the caller slices or pages it."""
    incidents = published_incidents()
    if service_ids is not None:
        incidents = incidents.filter(service_id__in=service_ids)
    if resolved is True:
        incidents = incidents.filter(resolved_at__isnull=False)
    elif resolved is False:
        incidents = incidents.filter(resolved_at__isnull=True)
    if since is not None:
        incidents = incidents.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=since))
    return (
        incidents.select_related("service", "severity")
        .prefetch_related(public_updates_prefetch())
        .order_by("-started_at", "-id")
    )


def public_updates(*, since=None, limit=50):
    """The latest public updates of published incidents, newest first (the Atom feed)."""
    updates = IncidentUpdate.objects.filter(public=True, incident__published_at__isnull=False)
    if since is not None:
        updates = updates.filter(created_at__gte=since)
    return list(
        updates.select_related("incident__service", "incident__severity").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def status_incidents(*, now):
    """The status page's published incidents: open ones (and those resolved in the last day)
    grouped by service, each with its public updates newest first; and the recent published
    post-mortems (of published incidents).

    Four queries whatever the number of incidents and updates.
    """
    published = published_incidents()
    open_or_recent = published.filter(resolved_at__isnull=True) | published.filter(
        resolved_at__gte=now - STATUS_RESOLVED_FOR
    )
    incidents = list(
        open_or_recent.select_related("service", "severity")
        .prefetch_related(public_updates_prefetch())
        .order_by("service__name", "service_id", "-started_at", "-id")
    )
    by_service = []
    for incident in incidents:
        if not by_service or by_service[-1]["service"].pk != incident.service_id:
            by_service.append({"service": incident.service, "incidents": []})
        by_service[-1]["incidents"].append(incident)
    postmortems = list(
        Postmortem.objects.filter(
            published_at__gte=now - STATUS_POSTMORTEMS_SINCE,
            incident__published_at__isnull=False,
        )
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
