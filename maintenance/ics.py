"""A service's maintenance calendar as RFC 5545 (``/maintenance/<slug>.ics``).

One VEVENT per window with its RRULE, TZID'd local DTSTART/DTEND and a VTIMEZONE, so Google
Calendar, Outlook and Apple Calendar expand it themselves and follow later occurrences without
refetching. Cancelled occurrences are EXDATEs; moved ones are overriding VEVENTs with the same
UID and a RECURRENCE-ID. A one-off window is a plain VEVENT (STATUS:CANCELLED when cancelled).

Calendar clients apply RFC 5545's own DST rules: a local time in a spring-forward gap is read
with the offset before the gap (02:30 → 03:30 EDT) and a recurring event keeps its exact
length. The portal's wall-clock rule differs on those nights (the start moves to the gap's end,
the end stays at its local end), so each such occurrence within ``OVERRIDE_HORIZON`` is written
as an override too: the feed says exactly what ``window_occurrences`` says.
"""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from core.zones import zone

from .occurrences import first_slot
from .selectors import occurrences_for_services

OVERRIDE_HORIZON = timedelta(days=2 * 366)
PAST = timedelta(days=92)


def service_calendar(*, service, windows, now, host):
    """The service's feed as bytes. ``windows``: its active windows."""
    cal = Calendar()
    cal.add("prodid", "-//Support portal//Maintenance calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{service.name} maintenance")
    cal.add("x-wr-timezone", service.timezone)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    start, end = now - PAST, now + OVERRIDE_HORIZON
    occurrences = occurrences_for_services(
        services=[service], start=start, end=end, windows=windows
    )
    by_window = {}
    for occurrence in occurrences:
        by_window.setdefault(occurrence.window.pk, []).append(occurrence)
    stamp = now.astimezone(UTC)
    for window in windows:
        uid = f"maintenance-window-{window.pk}@{host}"
        tz = zone(window.timezone)
        own = by_window.get(window.pk, [])
        if not window.rrule:
            occurrence = own[0] if own else None
            first = first_slot(
                rrule="",
                on_date=window.date,
                start=window.start,
                minutes=window.minutes,
                tz_name=window.timezone,
                anchor=window.anchor,
            )
            event = _event(window, uid, stamp)
            starts = occurrence.starts_at if occurrence else first.starts_at
            ends = occurrence.ends_at if occurrence else first.ends_at
            event.add("dtstart", starts.astimezone(tz))
            event.add("dtend", ends.astimezone(tz))
            if occurrence and occurrence.cancelled:
                event.add("status", "CANCELLED")
            cal.add_component(event)
            continue
        first = first_slot(
            rrule=window.rrule,
            on_date=None,
            start=window.start,
            minutes=window.minutes,
            tz_name=window.timezone,
            anchor=window.anchor,
        )
        if first is None:
            continue
        master = _event(window, uid, stamp)
        # RFC semantics of the master: local DTSTART (fold 0), fixed length.
        rfc_start = first.local_start.replace(tzinfo=tz)
        length = timedelta(minutes=window.minutes)
        master.add("dtstart", rfc_start)
        master.add("dtend", rfc_start + length)
        master.add("rrule", _rrule_dict(window.rrule))
        exdates, overrides = [], []
        for occurrence in own:
            if occurrence.local_start is None:
                continue  # moved here from outside the range; its override is written below
            recurrence_id = occurrence.local_start.replace(tzinfo=tz)
            if occurrence.cancelled:
                exdates.append(recurrence_id)
                continue
            client_start = recurrence_id.astimezone(UTC)
            client_end = client_start + length
            if occurrence.moved or (occurrence.starts_at, occurrence.ends_at) != (
                client_start,
                client_end,
            ):
                overrides.append((recurrence_id, occurrence))
        for occurrence in own:
            if occurrence.local_start is None and occurrence.moved:
                local = occurrence.original_start.astimezone(tz)
                overrides.append((local, occurrence))
        if exdates:
            master.add("exdate", exdates)
        cal.add_component(master)
        for recurrence_id, occurrence in overrides:
            event = _event(window, uid, stamp)
            event.add("recurrence-id", recurrence_id)
            event.add("dtstart", occurrence.starts_at.astimezone(tz))
            event.add("dtend", occurrence.ends_at.astimezone(tz))
            if occurrence.moved:
                event.add("comment", f"Moved. {occurrence.reason}".strip())
            cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def _event(window, uid, stamp):
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("summary", f"{window.service.name}: {window.name}")
    description = window.impact or "Planned maintenance."
    event.add("description", f"{description}\nCategory: {window.category}")
    event.add("categories", [window.category])
    event.add("transp", "TRANSPARENT")
    event.add(
        "sequence", int(window.updated_at.timestamp()) // 60 % 2**31 if window.updated_at else 0
    )
    return event


def _rrule_dict(text):
    """RRULE text → icalendar's vRecur mapping (UNTIL as a UTC datetime)."""
    parts = {}
    for part in text.split(";"):
        name, _, value = part.partition("=")
        name = name.strip().upper()
        if name == "UNTIL":
            value = value.rstrip("Zz")
            fmt = "%Y%m%dT%H%M%S" if "T" in value else "%Y%m%d"
            parts[name] = datetime.strptime(value, fmt).replace(tzinfo=UTC)
        else:
            parts[name] = value.split(",")
    return parts
