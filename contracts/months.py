"""A support month: a calendar month in the organisation's service's time zone.

Pure functions of aware datetimes and dates (no ORM, no clock): the month a moment falls in and
the UTC instants where a month begins and ends. In America/New_York, January runs from
2026-01-01 05:00 UTC to 2026-02-01 05:00 UTC, so work logged at 23:30 on January 31 local
(04:30 UTC on February 1) counts in January; July's bounds are at 04:00 UTC (DST).

The month arithmetic and ``YYYY-MM`` parsing are ``sla.months``; a local midnight becomes UTC
through ``maintenance.occurrences.local_midnight``, as for uptime and metrics periods, so the
apps agree on where a service's month begins.
"""

from zoneinfo import ZoneInfo

from maintenance.occurrences import local_midnight
from sla.months import first_of, next_month


def month_of(moment, tz):
    """The first day of the month ``moment`` (aware) falls in, on the wall clock of ``tz``."""
    return first_of(moment.astimezone(ZoneInfo(tz)))


def month_bounds(month, tz):
    """``[start, end)`` of ``month`` as UTC instants: local midnight of its first day to local
    midnight of the next month's first day. A month's end is computed exactly as the next
    month's start, so consecutive months tile time with no gap or overlap."""
    return local_midnight(month, tz), local_midnight(next_month(month), tz)
