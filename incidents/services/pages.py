"""Record an incident's pages (``paging``) inside the transaction of the service that caused
them: ``incident.opened`` when it is opened (by hand or by an alert; drafts too — pages go to
staff destinations, not the public), ``incident.updated`` for a public update,
``incident.resolved`` when it is resolved by any path. Each is keyed by the incident (and the
update), so it is recorded once; PagerDuty's ``dedup_key`` is ``incident-<id>`` on all of
them, so the resolve closes the alert the trigger opened."""

from django.conf import settings
from django.urls import reverse

from paging.oncall import on_call_page_open_for_incident
from paging.services import pages_record
from sla.models import Priority

_URGENCY = ("critical", "error", "warning")


def incident_page(incident, event, *, key=None, summary=""):
    """Record the pages of ``event`` for ``incident``; ``key`` defaults to one per event."""
    severity = incident.severity
    active = list(
        Priority.objects.filter(service=incident.service_id, retired_at__isnull=True)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    index = active.index(severity.pk) if severity.pk in active else len(_URGENCY)
    verb = event.removeprefix("incident.")
    url = settings.SITE_URL.rstrip("/") + reverse(
        "admin:incidents_incident_change", args=[incident.pk]
    )
    opener = incident.opened_by
    opener = opener.get_full_name() or opener.get_username()
    # An update of a resolved incident must not open a new PagerDuty alert: a resolve of a
    # resolved dedup_key changes nothing.
    resolved = event == "incident.resolved" or incident.resolved_at is not None
    if event == "incident.opened":
        on_call_page_open_for_incident(
            service_id=incident.service_id,
            key=f"incident:{incident.pk}:opened",
            title=f"{incident.number} opened: {incident.title}",
            url=url,
            dedup_key=f"incident-{incident.pk}",
        )
    return pages_record(
        service=incident.service,
        event=event,
        key=key or f"incident:{incident.pk}:{verb}",
        priority=severity.code,
        payload={
            "title": f"{incident.number} {verb}: {incident.title}",
            "summary": summary or f"{incident.service.name} — {severity.code}, opened by {opener}",
            "url": url,
            "label": f"Open {incident.number}",
            "dedup_key": f"incident-{incident.pk}",
            "action": "resolve" if resolved else "trigger",
            "urgency": _URGENCY[index] if index < len(_URGENCY) else "info",
        },
    )
