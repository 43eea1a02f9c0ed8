"""The periods the dashboard reports on, and their weeks, in the service's own time zone.

Pure clock (no ORM, no ``timezone.now()``). A period is a run of whole local days: "November"
is November where the service's customers are, from local midnight to local midnight, so its
length is the real time elapsed (a month holding the spring-forward night is an hour shorter).
Weeks run Monday to Sunday, local, as PostgreSQL's ``date_trunc('week', …)`` counts them.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from maintenance.occurrences import local_midnight
from sla.months import add_months, parse_month

MONTH, QUARTER, YEAR, CUSTOM = "month", "quarter", "year", "custom"
KINDS = (MONTH, QUARTER, YEAR, CUSTOM)
# A custom range is capped so the weekly chart stays legible and the aggregates bounded.
MAX_CUSTOM_DAYS = 731
# The years sla.months.parse_month accepts for a month, so every kind of period agrees.
FIRST_YEAR, LAST_YEAR = 1970, 2999

_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # first local day
    last: date  # last local day, inclusive
    start: datetime  # aware UTC: the local midnight that opens ``first``
    end: datetime  # aware UTC: the local midnight after ``last``

    @property
    def label(self):
        if self.kind == MONTH:
            return f"{self.first:%B %Y}"
        if self.kind == QUARTER:
            return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        if self.kind == YEAR:
            return str(self.first.year)
        return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"

    @property
    def value(self):
        """How the period is written in the dashboard's query string (``month=2026-11`` …)."""
        if self.kind == MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == YEAR:
            return str(self.first.year)
        return ""

    def weeks(self):
        """The Monday of every local week that has at least one day in the period, in order.

        The first and last weeks may be partial: they count only the days inside the period.
        """
        monday = self.first - timedelta(days=self.first.weekday())
        result = []
        while monday <= self.last:
            result.append(monday)
            monday += timedelta(days=7)
        return result


def span(kind, first, last, tz_name):
    return Period(
        kind,
        first,
        last,
        local_midnight(first, tz_name),
        local_midnight(last + timedelta(1), tz_name),
    )


def month(first, tz_name):
    first = first.replace(day=1)
    return span(MONTH, first, add_months(first, 1) - timedelta(1), tz_name)


def quarter(first, tz_name):
    first = date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    return span(QUARTER, first, add_months(first, 3) - timedelta(1), tz_name)


def year(first, tz_name):
    return span(YEAR, date(first.year, 1, 1), date(first.year, 12, 31), tz_name)


def custom(first, last, tz_name):
    if last < first:
        raise ValueError("the range ends before it starts: the end date must not be earlier")
    days = (last - first).days + 1
    if days > MAX_CUSTOM_DAYS:
        raise ValueError(
            f"the range is {days} days long: choose at most {MAX_CUSTOM_DAYS} days (two years)"
        )
    for day in (first, last):
        _check_year(day.year, day.isoformat())
    return span(CUSTOM, first, last, tz_name)


_BUILDERS = {MONTH: month, QUARTER: quarter, YEAR: year}


def containing(kind, day, tz_name):
    """The month, quarter or year holding local ``day``."""
    return _BUILDERS[kind](day, tz_name)


def shifted(period, steps, tz_name):
    """The month / quarter / year ``steps`` before (negative) or after this one."""
    months = {MONTH: 1, QUARTER: 3, YEAR: 12}[period.kind] * steps
    return _BUILDERS[period.kind](add_months(period.first, months), tz_name)


def _check_year(number, text):
    if not FIRST_YEAR <= number <= LAST_YEAR:
        raise ValueError(f"{text!r} is out of range: the year is {FIRST_YEAR}–{LAST_YEAR}")


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
    raise ValueError(f"{kind!r} is not a kind of period: choose one of {', '.join(KINDS)}")
