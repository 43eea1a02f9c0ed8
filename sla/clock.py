"""Business-time arithmetic: pure functions over a calendar and aware datetimes.

Nothing here reads the wall clock or the database (STYLE.md rule 6): every function takes the
moment it works from and the calendar it counts on, and returns aware datetimes in UTC.

A calendar's weekly open intervals are wall-clock local times in its zone. Each interval of a
local day maps to real instants through the zone by ``core.zones.to_utc``: a local time that does
not exist (the spring-forward gap) maps to the first valid instant after it, an ambiguous one
(fall back) to its first occurrence. Open time is real elapsed time between those instants, so
``00:00-24:00`` on the spring-forward day holds 23 hours. The rules, with worked examples, are in
``docs/sla-clock.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.zones import to_utc

if TYPE_CHECKING:
    from sla.durations import Duration

__all__ = [
    "BusinessCalendar",
    "add_business_days",
    "add_open_time",
    "deadline",
    "is_open",
    "next_opening",
    "open_intervals",
    "open_time_between",
]

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A search for open time that finds none in this many local days gives up: the calendar is
# effectively never open (no weekly hours, or every open day ahead is a holiday).
SEARCH_LIMIT_DAYS = 3 * 366

_DAY = timedelta(days=1)
_TIME = re.compile(r"^(?P<h>\d{2}):(?P<m>\d{2})$")

Interval = tuple[int, int]


@dataclass(frozen=True)
class BusinessCalendar:
    """When a timer runs: weekly open intervals in a time zone, minus whole-day holidays.

    ``weekly[i]`` holds weekday ``i``'s (Mon=0 … Sun=6) open intervals as sorted,
    non-overlapping ``(start_minute, end_minute)`` pairs of local wall-clock time,
    ``0 <= start < end <= 1440``; ``1440`` is 24:00 (the next day's midnight).
    """

    tz: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    # Open every minute of every day: open time is plain elapsed time, whatever the zone.
    _always_open: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.tz, ZoneInfo):
            raise ValueError(f"tz must be a zoneinfo.ZoneInfo, not {self.tz!r}")
        weekly = tuple(tuple((int(s), int(e)) for s, e in day) for day in self.weekly)
        if len(weekly) != 7:
            raise ValueError(f"weekly needs 7 days (Mon..Sun), got {len(weekly)}")
        for name, day in zip(WEEKDAYS, weekly, strict=True):
            previous_end = 0
            for start, end in day:
                if not 0 <= start < end <= MINUTES_PER_DAY:
                    raise ValueError(f"{name}: bad interval {_fmt(start)}-{_fmt(end)}")
                if start < previous_end:
                    raise ValueError(f"{name}: intervals overlap or are not sorted")
                previous_end = end
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(
            self,
            "_always_open",
            not self.holidays and all(day == ((0, MINUTES_PER_DAY),) for day in weekly),
        )

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """The "24/7" calendar: open all the time, in UTC."""
        return cls(tz=ZoneInfo("UTC"), weekly=(((0, MINUTES_PER_DAY),),) * 7)

    @classmethod
    def from_hours(
        cls,
        timezone: str,
        hours: Mapping[str, Iterable],
        holidays: Iterable[date | str] = (),
    ) -> BusinessCalendar:
        """Build a calendar from plan-like data.

        ``hours`` maps weekday keys (``mon`` … ``sun``, or a range ``mon-fri``) to lists of
        ``["09:00", "18:00"]`` pairs (or ``"09:00-18:00"`` strings); ``"24:00"`` is allowed as
        an end. A day not named is closed. Touching intervals of a day are merged. Raises
        ``ValueError`` on bad input; the plan loader does the user-facing validation.
        """
        try:
            tz = ZoneInfo(timezone)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError, TypeError
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        days: list[list[Interval]] = [[] for _ in WEEKDAYS]
        for key, intervals in hours.items():
            if isinstance(intervals, str):
                intervals = [intervals]
            for weekday in _weekday_keys(key):
                days[weekday].extend(_interval(item) for item in intervals)
        weekly = tuple(_merge_touching(sorted(day)) for day in days)
        return cls(tz=tz, weekly=weekly, holidays=frozenset(_date(d) for d in holidays))

    def is_open_day(self, day: date) -> bool:
        """A local date that is not a holiday and has weekly open hours."""
        return bool(self.weekly[day.weekday()]) and day not in self.holidays


def open_intervals(
    cal: BusinessCalendar, start: datetime, end: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the calendar's open spans overlapping ``[start, end)``, clipped to it, in order.

    Spans are UTC ``(a, b)`` with ``a < b``, half-open. They never overlap but may touch
    (``b`` of one equals ``a`` of the next: a 24/7 calendar at local midnight, or
    ``22:00-24:00`` followed by the next day's ``00:00-02:00``); treat touching spans as
    continuous. With ``end=None`` the search is unbounded, and it raises ``ValueError`` after
    ``SEARCH_LIMIT_DAYS`` local days without any open time ("calendar is never open").
    """
    start = _utc(start)
    if end is not None:
        end = _utc(end)
        if end <= start:
            return
    if cal._always_open:
        # The weekly intervals tile the time line without gaps; skip the day walk.
        if end is not None:
            yield start, end
            return
        step = 7 * _DAY
        while True:
            yield start, start + step
            start += step
    if end is None and not any(cal.weekly):
        raise ValueError("calendar is never open: it has no weekly open hours")
    tz = cal.tz
    # The day before start's local date is scanned too; its intervals cannot reach past
    # start's local midnight, so this only costs one cheap iteration.
    day = start.astimezone(tz).date() - _DAY
    last_day = end.astimezone(tz).date() if end is not None else None
    last_open_day = day
    while last_day is None or day <= last_day:
        intervals = cal.weekly[day.weekday()]
        if intervals and day not in cal.holidays:
            for s, e in intervals:
                b = _wall_to_utc(tz, day, e)
                if b <= start:
                    continue
                a = _wall_to_utc(tz, day, s)
                if end is not None and a >= end:
                    return
                a = max(a, start)
                if end is not None:
                    b = min(b, end)
                if a < b:
                    last_open_day = day
                    yield a, b
        elif last_day is None and (day - last_open_day).days > SEARCH_LIMIT_DAYS:
            raise ValueError(
                f"calendar is never open: no open time in {SEARCH_LIMIT_DAYS} days "
                f"after {start.isoformat()}"
            )
        day += _DAY


def is_open(cal: BusinessCalendar, moment: datetime) -> bool:
    """Whether ``moment`` is inside open hours (an opening instant is open, a closing one not)."""
    moment = _utc(moment)
    return next(open_intervals(cal, moment, moment + timedelta(microseconds=1)), None) is not None


def next_opening(cal: BusinessCalendar, moment: datetime) -> datetime:
    """``moment`` itself if open, else the next instant the calendar opens."""
    a, _ = next(open_intervals(cal, moment))
    return a


def add_open_time(cal: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which ``duration`` of open time has elapsed since ``start``.

    A result that falls exactly on a closing time stays there (Fri 17:00 + 1h on 09:00-18:00
    is Fri 18:00). A zero duration returns ``start`` unchanged (in UTC), even when closed: so
    ``add(add(s, d1), d2) == add(s, d1 + d2)`` holds for every ``d >= 0``, and pushing a
    deadline that sits on Friday's closing time by a pause that used no open time leaves it
    there rather than moving it to Monday's opening.
    """
    start = _utc(start)
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    if duration == timedelta(0):
        return start
    remaining = duration
    for a, b in open_intervals(cal, start):
        span = b - a
        if remaining <= span:
            return a + remaining
        remaining -= span
    raise AssertionError("unreachable: open_intervals without end never stops")  # pragma: no cover


def open_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Open time in ``[start, end)``; zero when ``end <= start``."""
    return sum((b - a for a, b in open_intervals(cal, start, end)), timedelta(0))


def add_business_days(cal: BusinessCalendar, start: datetime, days: int) -> datetime:
    """The same local time of day on the ``days``-th following open day.

    A start outside open hours counts from the next opening; a result outside that day's open
    hours moves to its next opening. An open day is a non-holiday local date whose weekday has
    open intervals. ``days == 0`` gives ``next_opening(start)``.
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    begin = next_opening(cal, start)
    if days == 0:
        return begin
    local = begin.astimezone(cal.tz)
    day = local.date()
    for _ in range(days):
        day += _DAY
        skipped = 0
        while not cal.is_open_day(day):
            day += _DAY
            skipped += 1
            if skipped > SEARCH_LIMIT_DAYS:
                raise ValueError(f"calendar is never open: no open day after {day.isoformat()}")
    naive = datetime.combine(day, local.time().replace(tzinfo=None, fold=0))
    return next_opening(cal, to_utc(naive, cal.tz))


def deadline(cal: BusinessCalendar, start: datetime, duration: Duration) -> datetime:
    """When a timer of ``duration`` (open time, or business days) started at ``start`` is due."""
    if duration.business_days and duration.minutes:
        raise ValueError(f"a duration is minutes or business days, not both: {duration!r}")
    if duration.business_days:
        return add_business_days(cal, start, duration.business_days)
    return add_open_time(cal, start, timedelta(minutes=duration.minutes))


# -- helpers -------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {moment!r}")
    # In UTC, datetime arithmetic is real elapsed time (in a ZoneInfo zone it is wall-clock).
    return moment.astimezone(UTC)


def _wall_to_utc(tz: ZoneInfo, day: date, minute: int) -> datetime:
    """The real instant of local ``day`` at ``minute`` (1440 = the next day's 00:00)."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + _DAY, 0
    return to_utc(datetime.combine(day, time(minute // 60, minute % 60)), tz)


def _weekday_keys(key: str) -> range | list[int]:
    key = str(key).strip().lower()
    if "-" in key:
        first, _, last = key.partition("-")
        if first in WEEKDAYS and last in WEEKDAYS:
            i, j = WEEKDAYS.index(first), WEEKDAYS.index(last)
            if i <= j:
                return range(i, j + 1)
        raise ValueError(f"bad weekday range {key!r}: use e.g. mon-fri")
    if key not in WEEKDAYS:
        raise ValueError(f"bad weekday {key!r}: use one of {', '.join(WEEKDAYS)}")
    return [WEEKDAYS.index(key)]


def _interval(item) -> Interval:
    try:
        parts = item.split("-") if isinstance(item, str) else list(item)
    except TypeError:
        parts = []
    if len(parts) != 2:
        raise ValueError(f"bad interval {item!r}: use a start and an end, e.g. 09:00-18:00")
    start, end = _minute(parts[0]), _minute(parts[1])
    if start >= end:
        raise ValueError(f"bad interval {item!r}: the end must be after the start")
    return start, end


def _minute(text) -> int:
    match = _TIME.match(str(text).strip())
    if match:
        h, m = int(match["h"]), int(match["m"])
        if (h < 24 and m < 60) or (h == 24 and m == 0):
            return h * 60 + m
    raise ValueError(f"bad time {text!r}: use HH:MM, 00:00 to 24:00")


def _merge_touching(intervals: list[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for start, end in intervals:
        if merged and start < merged[-1][1]:
            raise ValueError(f"overlapping intervals {_fmt(*merged[-1])} and {_fmt(start, end)}")
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _date(value: date | str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"a holiday is a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"bad holiday {value!r}: use YYYY-MM-DD") from exc


def _fmt(*minutes: int) -> str:
    return "-".join(f"{m // 60:02d}:{m % 60:02d}" for m in minutes)
