"""Pages (``paging``) of maintenance: ``maintenance.started`` and ``maintenance.ended`` of each
occurrence of a window, for the destinations whose plan entry lists them.

An occurrence starting or ending is a moment, not a write, so the minute's maintenance beat
task records them: every occurrence (cancelled ones excepted, moved ones at their new time)
whose start or end fell in the last ``LOOKBACK``. Each is keyed by the occurrence (window and
original start) and the event, so the sweep running every minute, twice, or late records each
page once (``INSERT … ON CONFLICT DO NOTHING``); a beat down for longer than ``LOOKBACK`` skips
what is by then stale instead of paging about it late. PagerDuty: ``trigger`` at the start and
``resolve`` at the end under one ``dedup_key`` per occurrence, severity ``info``.

A fixed number of queries per run: the destinations, the windows of the services that want
these events, their exceptions, one insert.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from paging.models import Destination
from paging.services import pages_record_many

from .models import MaintenanceWindow
from .selectors import occurrences_for_services

EVENTS = ("maintenance.started", "maintenance.ended")
LOOKBACK = timedelta(hours=1)


@transaction.atomic
def maintenance_pages_record_due(*, now=None):
    """Record the start and end pages that fell due in the last ``LOOKBACK``; returns how many
    were offered (ones recorded before included)."""
    now = now or timezone.now()
    service_ids = {
        destination.service_id
        for destination in Destination.objects.filter(retired_at__isnull=True).only(
            "service_id", "events"
        )
        if set(destination.events) & set(EVENTS)
    }
    if not service_ids:
        return 0
    windows = list(
        MaintenanceWindow.objects.filter(is_active=True, service_id__in=service_ids).select_related(
            "service"
        )
    )
    pages = []
    since = now - LOOKBACK
    for occurrence in occurrences_for_services(windows=windows, start=since, end=now):
        if occurrence.cancelled:
            continue
        if since <= occurrence.starts_at <= now:
            pages.append(_page(occurrence, "maintenance.started"))
        if since <= occurrence.ends_at <= now:
            pages.append(_page(occurrence, "maintenance.ended"))
    return pages_record_many(pages=pages, now=now)


def _page(occurrence, event):
    window = occurrence.window
    verb = event.removeprefix("maintenance.")
    url = settings.SITE_URL.rstrip("/") + reverse(
        "admin:maintenance_maintenancewindow_change", args=[window.pk]
    )
    return {
        "service": window.service_id,
        "event": event,
        "key": f"maintenance:{occurrence.key}:{verb}",
        "payload": {
            "title": f"Maintenance {verb}: {window.name} ({window.service.name})",
            "summary": (
                f"{occurrence.starts_at:%Y-%m-%d %H:%M}–{occurrence.ends_at:%H:%M} UTC"
                + (f" — {window.impact}" if window.impact else "")
            ),
            "url": url,
            "label": "Open the window",
            "dedup_key": f"maintenance-{occurrence.key}",
            "action": "trigger" if verb == "started" else "resolve",
            "urgency": "info",
        },
    }
