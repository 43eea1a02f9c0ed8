"""What a ticket's SLA promises its customer, in words: "We will respond by Mon 4 Jan 09:55 EST".

Read from the deadlines the timers already stored on the ticket (``tickets/timers.py``), never
recomputed here, so the page, the confirmation and the email say what the sweep will act on.
The one sum done here is the open time left on a paused resolution clock.

Times are in ``zone`` — the reader's chosen zone, else the service's (``customer_zone``), the
rule every customer page uses; the hours are stated in the calendar's own zone, named, because
that is how the plan words them ("Mon–Fri 09:00–18:00 (America/New_York)").
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from accounts.selectors import user_timezone
from sla import clock
from sla.calendars import business_calendar
from sla.selectors import calendar_hours_text, duration_text

from .models import Ticket

STOPPED = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


@dataclass(frozen=True)
class TimerLine:
    """One timer as the customer reads it. ``state``: ``due``, ``overdue``, ``paused``, ``met``,
    ``missed`` or ``none`` (the priority has no such timer); ``at``: the instant the sentence
    names, if any."""

    timer: str
    state: str
    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class Promise:
    terms: str  # "P2 — High: first response within 4 hours, …; business hours Mon–Fri …"
    zone: str
    response: TimerLine
    resolution: TimerLine

    @property
    def lines(self):
        return (self.response, self.resolution)


def customer_zone(user, service) -> zoneinfo.ZoneInfo:
    """The zone a customer reads times in: their profile's, else the service's (else UTC)."""
    for name in (user_timezone(user=user), service.timezone, "UTC"):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def when(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """``Mon 4 Jan 2027 09:55 EST`` in ``zone`` (the zone's name where it has no abbreviation)."""
    local = moment.astimezone(zone)
    abbreviation = local.tzname() or ""
    if not abbreviation[:1].isalpha():
        abbreviation = f"{zone.key} (UTC{abbreviation})" if abbreviation else zone.key
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {abbreviation}"


def terms_text(priority) -> str:
    """``P2 — High: first response within 4 hours, resolution within 2 business days; business
    hours Mon–Fri 09:00–18:00 (America/New_York)``."""
    targets = [f"first response within {duration_text(priority.response)}"]
    if priority.resolution:
        targets.append(f"resolution within {duration_text(priority.resolution)}")
    calendar = priority.calendar
    if calendar is None or calendar.is_always_open:
        hours = "counted around the clock"
    else:
        hours = f"business hours {calendar_hours_text(calendar)}"
    return f"{priority.code} — {priority.name}: {', '.join(targets)}; {hours}"


def ticket_promise(ticket, *, zone: zoneinfo.ZoneInfo, now: datetime) -> Promise:
    """The ticket's response and resolution promises and where each stands at ``now``."""
    return Promise(
        terms=terms_text(ticket.priority),
        zone=zone.key,
        response=_response(ticket, zone, now),
        resolution=_resolution(ticket, zone, now),
    )


def _response(ticket, zone, now):
    if ticket.response_met is not None:
        if ticket.first_response_at is None:
            # Resolved or closed before anyone answered: the timer stopped there.
            verdict = "in time" if ticket.response_met else "later than promised"
            return TimerLine(
                "response",
                "met" if ticket.response_met else "missed",
                f"Closed before a first reply ({verdict}).",
            )
        at = ticket.first_response_at
        if ticket.response_met:
            return TimerLine("response", "met", f"First response {when(at, zone)} — in time.", at)
        return TimerLine(
            "response", "missed", f"First response {when(at, zone)} — later than promised.", at
        )
    due = ticket.response_due_at
    if due is None:
        return TimerLine("response", "none", "No first-response time is set for this ticket.")
    if now > due:
        return TimerLine(
            "response",
            "overdue",
            f"Our first response was due {when(due, zone)} and is overdue.",
            due,
        )
    return TimerLine("response", "due", f"We will respond by {when(due, zone)}.", due)


def _resolution(ticket, zone, now):
    if not ticket.priority.resolution and ticket.resolution_met is None:
        return TimerLine("resolution", "none", "No fixed resolution time for this priority.")
    if ticket.resolution_met is not None:
        at = ticket.resolved_at or ticket.closed_at
        done = f"Resolved {when(at, zone)}" if at else "Resolved"
        if ticket.resolution_met:
            return TimerLine("resolution", "met", f"{done} — in time.", at)
        return TimerLine("resolution", "missed", f"{done} — later than promised.", at)
    due = ticket.resolution_due_at
    if due is None:
        return TimerLine("resolution", "none", "No resolution time is set for this ticket.")
    if ticket.paused_at is not None and ticket.status not in STOPPED:
        # The stored deadline leaves out the running pause: what is left is the open time
        # from the pause's start to it, and the clock restarts with that much.
        cal = business_calendar(ticket.priority.calendar)
        left = clock.open_time_between(cal, ticket.paused_at, due)
        why = (
            "while we wait for your reply"
            if ticket.status == Ticket.Status.WAITING_ON_CUSTOMER
            else f"while the ticket is “{ticket.get_status_display()}”"
        )
        return TimerLine(
            "resolution",
            "paused",
            f"The resolution clock is paused {why} (since {when(ticket.paused_at, zone)}); "
            f"{_span(left)} to go when it restarts.",
            ticket.paused_at,
        )
    if now > due:
        return TimerLine(
            "resolution",
            "overdue",
            f"Resolution was due {when(due, zone)} and is overdue.",
            due,
        )
    return TimerLine("resolution", "due", f"We aim to resolve it by {when(due, zone)}.", due)


def _span(left) -> str:
    """``3 h 20 min`` of open time (whole minutes; ``0 min`` when none is left)."""
    minutes = max(0, int(left.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
