"""Which local days the rollup must recompute, and which periods it can answer: pure clock.

The rollup sums tickets by their *wall-clock* date in the service's zone (``TruncDate``), the
report's weeks being wall-clock weeks. A period holds the tickets between two local midnights
(``core.periods``: the earliest instant whose wall clock reads 00:00 or later), and the two
agree on every day but one kind: a zone whose clock falls back *across* midnight (St. John's
until 2011: 00:01 back to 23:01) shows the previous date for a while after its midnight, so
those tickets belong to the new day's period but to the old day's date. A period with such an
edge is computed from the tickets directly (``period_matches_dates``).
"""

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

from core.zones import local_date, local_midnight, zone

# A fall back never goes back further than this.
MARGIN = timedelta(days=2)
_STEP = timedelta(hours=1)


def dates_of_utc_days(utc_days, tz):
    """The wall dates of ``tz`` that instants of the UTC dates ``utc_days`` show."""
    dates = set()
    for day in utc_days:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        first = local_date(start, tz)
        last = local_date(start + timedelta(days=1) - timedelta(microseconds=1), tz)
        # A fall back across a midnight shows the date before it again for a while.
        if _falls_back_before(first, tz):
            first -= timedelta(days=1)
        if _falls_back_before(last + timedelta(days=1), tz):
            last += timedelta(days=1)
        dates.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return dates


def runs(dates):
    """Sorted ``(first, last)`` runs of consecutive dates."""
    result = []
    for day in sorted(dates):
        if result and day == result[-1][1] + timedelta(days=1):
            result[-1] = (result[-1][0], day)
        else:
            result.append((day, day))
    return result


def utc_bounds(first, last, tz):
    """``[start, end)``: UTC instants holding every instant whose wall date in ``tz`` is within
    ``first`` … ``last`` (an index range for the tickets of those dates)."""
    start = local_midnight(first, tz)  # the first instant showing ``first`` or later
    end = local_midnight(last + timedelta(days=1), tz)
    if _falls_back_before(last + timedelta(days=1), tz):
        end += MARGIN
    return start, end


def period_matches_dates(period):
    """Whether the instants of ``period`` are exactly those whose wall date is in it."""
    return not _falls_back_before(period.first, period.tz) and not _falls_back_before(
        period.last + timedelta(days=1), period.tz
    )


@lru_cache(maxsize=1024)
def _falls_back_before(day, tz):
    """Whether, after ``day`` has begun in ``tz``, the wall clock shows an earlier date (a fall
    back across midnight).

    Walks the next two days an hour at a time (no two transitions of a zone are closer) and,
    where the offset drops, bisects to the second of the transition, where the wall clock is
    at its lowest: the clock is back before midnight then or never.
    """
    zone_info = zone(tz)
    midnight = datetime.combine(day, time(0))  # naive wall clock
    moment = local_midnight(day, tz)
    offset = moment.astimezone(zone_info).utcoffset()
    end = moment + MARGIN
    while moment < end:
        later = moment + _STEP
        later_offset = later.astimezone(zone_info).utcoffset()
        if later_offset < offset:
            low, high = moment, later  # offset(low) is the old one, offset(high) the new
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone_info).utcoffset() == later_offset:
                    high = middle
                else:
                    low = middle
            if (high + later_offset).replace(tzinfo=None) < midnight:
                return True
        moment, offset = later, later_offset
    return False
