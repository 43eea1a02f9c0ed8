"""The periods uptime is measured over: local days and local months of a service's zone.

Pure clock (no ORM, no ``timezone.now()``). A day or a month is a run of whole local days in
the service's time zone, so "November" means November where the service's customers are, and
its length is the real time elapsed between its two local midnights: a day the clocks spring
forward lasts 23 hours, a month holding it one hour less than its calendar length.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from maintenance.occurrences import local_midnight
from sla.months import next_month


@dataclass(frozen=True)
class Period:
    first: date  # first local day
    last: date  # last local day, inclusive
    start: object  # aware UTC: the local midnight that opens ``first``
    end: object  # aware UTC: the local midnight after ``last``


def day(day_, tz_name):
    return Period(
        day_, day_, local_midnight(day_, tz_name), local_midnight(day_ + timedelta(days=1), tz_name)
    )


def month(year, month_, tz_name):
    first = date(year, month_, 1)
    after = next_month(first)
    return Period(
        first,
        after - timedelta(days=1),
        local_midnight(first, tz_name),
        local_midnight(after, tz_name),
    )


def last_days(today, count):
    """The ``count`` local days ending with ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(count - 1, -1, -1)]
