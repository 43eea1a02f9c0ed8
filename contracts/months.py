"""A support month: a calendar month in the organisation's service's time zone.

Pure functions of aware datetimes and dates (no ORM, no clock): the month a moment falls in and
the UTC instants where a month begins and ends. In America/New_York, January runs from
2026-01-01 05:00 UTC to 2026-02-01 05:00 UTC, so work logged at 23:30 on January 31 local
(04:30 UTC on February 1) counts in January; July's bounds are at 04:00 UTC (DST).
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sla import months
from sla.months import next_month


def month_of(moment, tz):
    """The first day of the month ``moment`` (aware) falls in, on the wall clock of ``tz``."""
    local = moment.astimezone(ZoneInfo(tz))
    return date(local.year, local.month, 1)


def month_bounds(month, tz):
    """``[start, end)`` of ``month`` as UTC instants: local midnight of its first day to local
    midnight of the next month's first day. A month's end is computed exactly as the next
    month's start, so consecutive months tile time with no gap or overlap."""
    zone = ZoneInfo(tz)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = next_month(month)
    end = datetime(following.year, following.month, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_month(text):
    """``"2026-01"`` → ``date(2026, 1, 1)``; None for anything else."""
    try:
        return months.parse_month(text)
    except ValueError:
        return None
