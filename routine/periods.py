"""The periods of a routine task: a day, an ISO week, a month, a quarter or a year.

Pure clock (no ORM, no ``timezone.now()``): a period is a run of whole local days of the
service's time zone, and it is due when its last day ends there. ISO weeks run Monday to
Sunday and are numbered by the ISO year, so 28 December 2026 – 3 January 2027 is week 53 of
2026 and its due instant is the start of Monday 4 January 2027.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from maintenance.occurrences import to_utc, zone

EVERY = ("daily", "weekly", "monthly", "quarterly", "annually")


@dataclass(frozen=True)
class Period:
    every: str
    start: date  # first local day
    end: date  # last local day, inclusive

    @property
    def label(self):
        if self.every == "daily":
            return self.start.isoformat()
        if self.every == "weekly":
            iso = self.start.isocalendar()
            return f"week {iso.week} {iso.year}"
        if self.every == "monthly":
            return f"{self.start:%B %Y}"
        if self.every == "quarterly":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return str(self.start.year)

    def next(self):
        return period_containing(self.every, self.end + timedelta(days=1))

    def starts_at(self, tz_name):
        """The aware UTC instant the period begins: its first local midnight."""
        return local_midnight(self.start, tz_name)

    def due_at(self, tz_name):
        """The aware UTC instant the period ends: the local midnight after its last day."""
        return local_midnight(self.end + timedelta(days=1), tz_name)


def period_containing(every, day):
    """The period of kind ``every`` that holds the local date ``day``."""
    if every == "daily":
        return Period(every, day, day)
    if every == "weekly":
        monday = day - timedelta(days=day.weekday())
        return Period(every, monday, monday + timedelta(days=6))
    if every == "monthly":
        start = day.replace(day=1)
        return Period(every, start, _months_later(start, 1) - timedelta(days=1))
    if every == "quarterly":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(every, start, _months_later(start, 3) - timedelta(days=1))
    if every == "annually":
        return Period(every, date(day.year, 1, 1), date(day.year, 12, 31))
    raise ValueError(f"{every!r} is not a routine period; use one of {', '.join(EVERY)}")


def periods_between(every, first_day, last_day):
    """Every period that holds at least one day of ``first_day``…``last_day`` (inclusive)."""
    period = period_containing(every, first_day)
    while period.start <= last_day:
        yield period
        period = period.next()


def local_midnight(day, tz_name):
    """A local date's first instant in UTC. Where midnight falls in a DST gap (Santiago,
    Beirut…), the day begins at the first valid minute after it."""
    return to_utc(datetime.combine(day, time(0)), zone(tz_name))


def local_date(instant, tz_name):
    return instant.astimezone(zone(tz_name)).date()


def _months_later(first_of_month, months):
    index = first_of_month.month - 1 + months
    return date(first_of_month.year + index // 12, index % 12 + 1, 1)
