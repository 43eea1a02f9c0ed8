"""Calendar periods of a zone: days, ISO weeks, months, quarters, years and custom ranges.

Pure clock (no ORM, no ``timezone.now()``). A period is a run of whole local days in a time
zone: "November" is November where the service's customers are, from local midnight to local
midnight, so its length is the real time elapsed between them (a month holding the
spring-forward night is an hour shorter). Weeks are ISO weeks: Monday to Sunday, numbered by the
ISO year, so 28 December 2026 – 3 January 2027 is week 53 of 2026 (and, as PostgreSQL's
``date_trunc('week', …)`` counts them). Local midnights become UTC by ``core.zones``' one rule.

The month helpers work on dates that stand for a month (its first day), with no zone.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from .zones import local_date, local_midnight

DAY, WEEK, MONTH, QUARTER, YEAR, CUSTOM = "day", "week", "month", "quarter", "year", "custom"
KINDS = (DAY, WEEK, MONTH, QUARTER, YEAR, CUSTOM)
# The years a period may fall in: what people type in a query string or a plan, bounded so a
# hostile value never reaches date arithmetic that overflows.
FIRST_YEAR, LAST_YEAR = 1970, 2999

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
_YEAR = re.compile(r"\d{4}")


# --- months as dates ---------------------------------------------------------------------


def first_of(day):
    """The month ``day`` is in, as its first day."""
    return date(day.year, day.month, 1)


def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def next_month(month):
    return add_months(month, 1)


def previous_month(month):
    return add_months(month, -1)


def quarter_start(day):
    """The first day of ``day``'s quarter."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter_start(day):
    return add_months(quarter_start(day), 3)


def month_of(moment, tz):
    """The month (its first day) the aware ``moment`` falls in on ``tz``'s wall clock."""
    return first_of(local_date(moment, tz))


def month_bounds(month, tz):
    """``[start, end)`` of ``month`` as UTC instants: local midnight of its first day to local
    midnight of the next month's first day, so consecutive months tile time exactly."""
    period = containing(MONTH, month, tz)
    return period.start, period.end


# --- periods -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The local days ``first`` … ``last`` (inclusive) of zone ``tz`` (an IANA name)."""

    kind: str
    first: date
    last: date
    tz: str

    @cached_property
    def start(self):
        """Aware UTC: the local midnight that opens ``first``."""
        return local_midnight(self.first, self.tz)

    @cached_property
    def end(self):
        """Aware UTC: the local midnight after ``last`` (when the period is over, or due)."""
        return local_midnight(self.last + timedelta(days=1), self.tz)

    @property
    def label(self):
        if self.kind == DAY:
            return self.first.isoformat()
        if self.kind == WEEK:
            iso = self.first.isocalendar()
            return f"week {iso.week} {iso.year}"
        if self.kind == MONTH:
            return f"{self.first:%B %Y}"
        if self.kind == QUARTER:
            return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        if self.kind == YEAR:
            return str(self.first.year)
        return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"

    @property
    def value(self):
        """How the period is written in a query string (``2026-11``, ``2026-Q4``, ``2026``);
        ``""`` for a kind that has no such name."""
        if self.kind == MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == YEAR:
            return str(self.first.year)
        return ""

    def weeks(self):
        """The Monday of every local week with at least one day in the period, in order (the
        first and last weeks may be partial)."""
        monday = self.first - timedelta(days=self.first.weekday())
        result = []
        while monday <= self.last:
            result.append(monday)
            monday += timedelta(days=7)
        return result

    def next(self):
        """The period of the same kind that starts the day after this one ends."""
        return containing(self.kind, self.last + timedelta(days=1), self.tz)

    def shifted(self, steps):
        """The day / week / month / quarter / year ``steps`` before (negative) or after."""
        if self.kind in _DAYS:
            return containing(
                self.kind, self.first + timedelta(days=_DAYS[self.kind] * steps), self.tz
            )
        months = _MONTHS[self.kind] * steps
        return containing(self.kind, add_months(self.first, months), self.tz)


_DAYS = {DAY: 1, WEEK: 7}
_MONTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}


def containing(kind, day, tz):
    """The day, ISO week, month, quarter or year of zone ``tz`` that holds local ``day``."""
    if kind == DAY:
        first = last = day
    elif kind == WEEK:
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
    elif kind == MONTH:
        first = first_of(day)
        last = next_month(first) - timedelta(days=1)
    elif kind == QUARTER:
        first = quarter_start(day)
        last = next_quarter_start(day) - timedelta(days=1)
    elif kind == YEAR:
        first, last = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        raise ValueError(f"{kind!r} is not a kind of period: use one of {', '.join(KINDS[:-1])}")
    return Period(kind, first, last, tz)


def custom(first, last, tz, *, max_days=None):
    """The local days ``first`` … ``last`` (inclusive); ValueError says why a range is refused."""
    if last < first:
        raise ValueError("the range ends before it starts: the end date must not be earlier")
    days = (last - first).days + 1
    if max_days is not None and days > max_days:
        raise ValueError(f"the range is {days} days long: choose at most {max_days} days")
    for day in (first, last):
        _check_year(day.year, day.isoformat())
    return Period(CUSTOM, first, last, tz)


def between(kind, first_day, last_day, tz):
    """Every period of ``kind`` that holds at least one day of ``first_day`` … ``last_day``."""
    period = containing(kind, first_day, tz)
    while period.first <= last_day:
        yield period
        period = period.next()


def _check_year(number, text):
    if not FIRST_YEAR <= number <= LAST_YEAR:
        raise ValueError(f"{text!r} is out of range: the year is {FIRST_YEAR}–{LAST_YEAR}")


def parse_month(text):
    """``"2026-11"`` → ``date(2026, 11, 1)``; anything else raises ValueError saying why."""
    found = _MONTH.fullmatch((text or "").strip())
    if not found:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12 or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"{text!r} is not a month: the month is 01–12, the year {FIRST_YEAR}–{LAST_YEAR}"
        )
    return date(year, month, 1)


def parse(kind, text):
    """The first day of the month / quarter / year written ``text``; ValueError says why not."""
    text = (text or "").strip()
    if kind == MONTH:
        return parse_month(text)
    if kind == QUARTER:
        found = _QUARTER.fullmatch(text)
        if not found:
            raise ValueError(f"{text!r} is not a quarter: write it as YYYY-Qn, e.g. 2026-Q4")
        _check_year(int(found[1]), text)
        return date(int(found[1]), 3 * (int(found[2]) - 1) + 1, 1)
    if kind == YEAR:
        if not _YEAR.fullmatch(text):
            raise ValueError(f"{text!r} is not a year: write it as YYYY, e.g. 2026")
        _check_year(int(text), text)
        return date(int(text), 1, 1)
    raise ValueError(f"{kind!r} is not a kind of period: choose one of month, quarter, year")
