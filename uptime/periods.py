"""The periods uptime is measured over: local days and local months of a service's zone.

Pure clock (no ORM, no ``timezone.now()``). A day or a month is a run of whole local days in
the service's time zone, so "November" means November where the service's customers are, and
its length is the real time elapsed between its two local midnights: a day the clocks spring
forward lasts 23 hours, a month holding it one hour less than its calendar length.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from maintenance.occurrences import local_midnight

_MONTH = re.compile(r"(\d{4})-(\d{2})")


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


def next_month(first):
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first):
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def last_days(today, count):
    """The ``count`` local days ending with ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(count - 1, -1, -1)]


def parse_month(text):
    """``"2026-11"`` → ``date(2026, 11, 1)``; anything else raises ValueError saying why."""
    found = _MONTH.fullmatch((text or "").strip())
    if not found:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
    year, month_ = int(found[1]), int(found[2])
    if not 1 <= month_ <= 12 or not 1970 <= year <= 2999:
        raise ValueError(f"{text!r} is not a month: the month is 01–12, the year 1970–2999")
    return date(year, month_, 1)
