"""Aware UTC instants and a zone's wall clock: pure functions, no ORM, no clock.

Everything is stored and compared in UTC; a zone's wall clock is read only at the edges (a
service's local midnight, a window's local start). One rule maps a local wall-clock time to an
instant, for every app (SLA calendars, maintenance windows, report periods, routine items):

- a time the clock skips (the spring-forward gap) is the first instant after the gap, i.e. the
  transition itself: 02:30 on 8 March 2026 in America/New_York is 03:00 EDT (07:00 UTC);
- a time the clock shows twice (fall back) is its first occurrence (``fold=0``): 01:30 on
  1 November 2026 in New York is 01:30 EDT (05:30 UTC), not EST.

Put differently: the earliest instant whose local time is not before the wall-clock time asked
for.
"""

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=256)
def zone(name):
    """The ``ZoneInfo`` of an IANA name (cached: services share a handful of zones)."""
    return ZoneInfo(name)


def _tz(tz):
    return zone(tz) if isinstance(tz, str) else tz


def as_utc(moment):
    """An aware datetime as UTC (where datetime arithmetic is real elapsed time)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: expected an aware one")
    return moment.astimezone(UTC)


def to_utc(naive, tz):
    """The instant of the naive wall-clock time ``naive`` in ``tz`` (a ``ZoneInfo`` or a name),
    as an aware UTC datetime, by the module's rule (gap → its end, fold → first occurrence)."""
    tz = _tz(tz)
    instant = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    # ``naive`` is in a gap. With fold=0 zoneinfo applies the offset from before the transition,
    # which lands after it; fold=1 the offset from after it, which lands before it. Transitions
    # fall on whole seconds, so bisecting the seconds between finds the transition exactly, in
    # a dozen steps for an hour's gap (a day's, Samoa 2011, in seventeen).
    # (From a whole second: a naive time with microseconds would otherwise carry them into
    # the result, a microsecond off the transition.)
    low = naive.replace(tzinfo=tz, fold=1, microsecond=0).astimezone(UTC)
    lo, hi = 0, int((instant - low).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        if (low + timedelta(seconds=mid)).astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid + 1
    return low + timedelta(seconds=lo)


def local_midnight(day, tz):
    """The instant local ``day`` begins in ``tz`` (its 00:00, or the end of a gap over it)."""
    return to_utc(datetime.combine(day, time(0)), tz)


def local_date(instant, tz):
    """The date on ``tz``'s wall clock at the aware ``instant``."""
    return instant.astimezone(_tz(tz)).date()
