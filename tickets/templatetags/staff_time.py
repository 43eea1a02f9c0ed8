"""Times and durations as staff read them: "57 min", "2 h 5 min", "2 Dec 2026 14:05 CET".

One helper for the ticket admin (list, page, SLA log, timeline, canned replies): every instant
is shown in the staff member's profile zone, else the ticket's service zone, and always with
that zone's name; a duration never shows seconds or microseconds.
"""

import zoneinfo
from datetime import timedelta

from django import template
from django.utils import timezone

from accounts.selectors import user_timezone

register = template.Library()

UTC = zoneinfo.ZoneInfo("UTC")


def zone_named(name):
    """The zone called ``name``; UTC for an empty or unknown name (a stale profile value)."""
    try:
        return zoneinfo.ZoneInfo(name) if name else UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def staff_zone(user, service=None):
    """The zone ``user`` reads times in: their profile's, else the service's, else UTC."""
    name = user_timezone(user=user) if user is not None else ""
    if not name and service is not None:
        name = service.timezone
    return zone_named(name)


def human_duration(delta):
    """``timedelta`` → "57 min", "2 h 5 min", "3 d 4 h"; under a minute: "under 1 min".

    The sign is dropped: callers say "early" / "late" / "left" / "ago" themselves.
    """
    if delta is None:
        return "—"
    minutes = int(abs(delta) // timedelta(minutes=1))
    if minutes < 1:
        return "under 1 min"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def zone_label(local):
    """The zone's abbreviation ("CET", "UTC"); "UTC+03" where the zone has none ("+03")."""
    name = local.tzname() or ""
    if name[:1] in "+-" and name:
        return f"UTC{name}"
    return name


def local_time(instant, zone, *, with_year=True):
    """An aware instant in ``zone``, with the zone named: "2 Dec 2026 14:05 CET"."""
    if instant is None:
        return "—"
    local = timezone.localtime(instant, zone)
    day = f"{local.day} {local:%b %Y}" if with_year else f"{local.day} {local:%b}"
    return f"{day} {local:%H:%M} {zone_label(local)}"


@register.filter
def staff_time(instant, zone):
    """``{{ ticket.created_at|staff_time:zone }}``: see ``local_time``."""
    return local_time(instant, zone or UTC)


@register.filter
def duration(delta):
    """``{{ outcome.delta|duration }}``: see ``human_duration``."""
    return human_duration(delta)
