"""The periods of a routine task: a day, an ISO week, a month, a quarter or a year.

Pure clock (no ORM, no ``timezone.now()``): a period is a run of whole local days of the
service's time zone, and it is due when its last day ends there. ISO weeks run Monday to
Sunday and are numbered by the ISO year, so 28 December 2026 – 3 January 2027 is week 53 of
2026 and its due instant is the start of Monday 4 January 2027.
"""

from dataclasses import dataclass
from datetime import date, timedelta

# Maintenance's quarters and local midnights: a midnight in a DST gap (Santiago, Beirut…)
# becomes the first valid minute after it, the same rule as for maintenance windows.
from maintenance.occurrences import local_midnight, next_quarter_start, quarter_start, zone

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
        return Period(every, start, _next_month(start) - timedelta(days=1))
    if every == "quarterly":
        return Period(every, quarter_start(day), next_quarter_start(day) - timedelta(days=1))
    if every == "annually":
        return Period(every, date(day.year, 1, 1), date(day.year, 12, 31))
    raise ValueError(f"{every!r} is not a routine period; use one of {', '.join(EVERY)}")


def periods_between(every, first_day, last_day):
    """Every period that holds at least one day of ``first_day``…``last_day`` (inclusive)."""
    period = period_containing(every, first_day)
    while period.start <= last_day:
        yield period
        period = period.next()


def local_date(instant, tz_name):
    return instant.astimezone(zone(tz_name)).date()


def _next_month(first):
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)
