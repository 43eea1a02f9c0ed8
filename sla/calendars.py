"""Calendar rows → ``clock.BusinessCalendar``: the one place the ORM meets the pure clock.

A ``BusinessCalendar`` is immutable, so one is built per calendar version and reused: the cache
key is the row's id, its ``updated_at`` and its holiday dates (holidays are rows of their own
and do not touch the calendar's ``updated_at``). A missing calendar (``Priority.calendar`` or
``Tier.calendar`` null) means 24/7.
"""

from __future__ import annotations

from collections.abc import Iterable

from .clock import BusinessCalendar
from .models import Calendar, Holiday

ALWAYS_OPEN = BusinessCalendar.always_open()

_cache: dict[tuple, BusinessCalendar] = {}
_CACHE_LIMIT = 1024


def business_calendar(calendar: Calendar | None, holidays: Iterable | None = None):
    """The clock calendar of ``calendar`` (None → 24/7).

    ``holidays`` are the calendar's holiday dates when the caller has them (a sweep loads them
    for a whole batch at once); otherwise they are read here (one small indexed query).
    """
    if calendar is None:
        return ALWAYS_OPEN
    if holidays is None:
        if "holidays" in getattr(calendar, "_prefetched_objects_cache", {}):
            holidays = [holiday.date for holiday in calendar.holidays.all()]
        else:
            holidays = Holiday.objects.filter(calendar=calendar).values_list("date", flat=True)
    days = tuple(sorted(holidays))
    key = (calendar.pk, calendar.updated_at, days)
    cached = _cache.get(key)
    if cached is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        cached = BusinessCalendar.from_hours(calendar.timezone, calendar.hours or {}, days)
        _cache[key] = cached
    return cached


def business_calendars(calendar_ids: Iterable[int]) -> dict[int | None, BusinessCalendar]:
    """Clock calendars by id for many calendars in two queries; ``None`` maps to 24/7."""
    ids = {pk for pk in calendar_ids if pk is not None}
    result: dict[int | None, BusinessCalendar] = {None: ALWAYS_OPEN}
    if not ids:
        return result
    holidays: dict[int, list] = {pk: [] for pk in ids}
    for calendar_id, day in Holiday.objects.filter(calendar_id__in=ids).values_list(
        "calendar_id", "date"
    ):
        holidays[calendar_id].append(day)
    for calendar in Calendar.objects.filter(pk__in=ids):
        result[calendar.pk] = business_calendar(calendar, holidays[calendar.pk])
    return result
