"""``/status/feed.atom``: published incident updates and announced maintenance, RFC 4287.

An entry per public update of a published incident (the latest 50) and per maintenance
occurrence announced (not cancelled, from 30 days back to the next 14, as /status/ lists
them); newest first. Built with ``xml.etree`` so every text is escaped by construction.

Entry ids are ``tag:`` URIs (RFC 4151) on the site's host: stable whatever the path, so a
reader never shows an entry twice. A maintenance entry's ``updated`` is when its window was
last changed (clamped to now), so a moved window shows as updated.
"""

from datetime import timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from django.conf import settings
from django.urls import reverse

from incidents.selectors import public_updates
from maintenance.selectors import occurrences_for_services
from notifications.rendering import absolute_url

ATOM = "http://www.w3.org/2005/Atom"
FEED_UPDATES = 50
MAINTENANCE_PAST = timedelta(days=30)
MAINTENANCE_AHEAD = timedelta(days=14)


def _tag(*parts):
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"tag:{host},2026:" + "/".join(str(p) for p in parts)


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def _add(parent, name, text=None, **attrs):
    element = ET.SubElement(parent, name, attrs)
    if text is not None:
        element.text = text
    return element


def entries(now):
    """``[(updated, entry dict)]`` newest first: the incident updates and the maintenance."""
    found = []
    for update in public_updates(limit=FEED_UPDATES):
        incident = update.incident
        found.append(
            {
                "id": _tag("incident-update", update.pk),
                "title": f"{incident.service.name}: {incident.title} — "
                f"{update.get_status_display()}",
                "updated": update.created_at,
                "link": absolute_url(reverse("status_incident", args=[incident.pk])),
                "summary": update.body,
                "category": update.status,
            }
        )
    occurrences = occurrences_for_services(
        start=now - MAINTENANCE_PAST, end=now + MAINTENANCE_AHEAD
    )
    for occurrence in occurrences:
        if occurrence.cancelled:
            continue
        window = occurrence.window
        service = window.service
        summary = (
            f"Planned maintenance of {service.name} from {_iso(occurrence.starts_at)} to "
            f"{_iso(occurrence.ends_at)} (UTC)."
        )
        if window.impact:
            summary += f" {window.impact}"
        found.append(
            {
                "id": _tag("maintenance", window.pk, f"{occurrence.original_start:%Y%m%dT%H%MZ}"),
                "title": f"{service.name}: maintenance — {window.name}",
                "updated": min(window.updated_at, now),
                "link": absolute_url(reverse("maintenance:calendar")),
                "summary": summary,
                "category": "maintenance",
            }
        )
    found.sort(key=lambda entry: entry["updated"], reverse=True)
    return found


def atom_feed(now):
    """The feed document as bytes (UTF-8, with its XML declaration)."""
    ET.register_namespace("", ATOM)
    items = entries(now)
    feed = ET.Element(f"{{{ATOM}}}feed")
    status_url = absolute_url(reverse("status"))
    _add(feed, f"{{{ATOM}}}id", _tag("status"))
    _add(feed, f"{{{ATOM}}}title", "Service status: incidents and maintenance")
    _add(feed, f"{{{ATOM}}}updated", _iso(items[0]["updated"] if items else now))
    _add(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=status_url)
    _add(
        feed,
        f"{{{ATOM}}}link",
        rel="self",
        type="application/atom+xml",
        href=absolute_url(reverse("status_feed")),
    )
    author = _add(feed, f"{{{ATOM}}}author")
    _add(author, f"{{{ATOM}}}name", "Service status")
    for item in items:
        entry = _add(feed, f"{{{ATOM}}}entry")
        _add(entry, f"{{{ATOM}}}id", item["id"])
        _add(entry, f"{{{ATOM}}}title", item["title"])
        _add(entry, f"{{{ATOM}}}updated", _iso(item["updated"]))
        _add(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=item["link"])
        _add(entry, f"{{{ATOM}}}category", term=item["category"])
        _add(entry, f"{{{ATOM}}}summary", item["summary"], type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
