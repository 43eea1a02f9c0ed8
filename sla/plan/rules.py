"""The rules a plan's values obey, as pure functions shared by the loader and the admin.

Each check raises ``RuleError`` with a message written for the person editing the plan; the
loader adds the file, key path and line, model ``clean()`` methods attach it to a form field, so
both say the same thing. No ORM and no clock here.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil.rrule import rrulestr

from core.zones import to_utc
from sla.durations import parse_duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Ticket statuses a timer may pause in (the tickets app owns the list; sla must not import it).
PAUSABLE_STATUSES = ("new", "open", "waiting_on_customer")
CHANNELS = ("email", "banner")
ROUTINE_EVERY = ("daily", "weekly", "monthly", "quarterly", "annually")
DEFAULT_CHANNELS = ("email", "banner")  # a plan's `maintenance.channels` when it names none

# Targets as a plan words them: "MTTR < 4 hours", "resolution rate > 95 %". Which way is better
# is the metric's own; a bare value means "at most" for these and "at least" for the others
# (MTBF included: a longer time between failures is the better one).
LOWER_IS_BETTER = frozenset(
    {"mttr", "first_response_avg", "rto", "rpo", "p95_response_ms", "error_rate"}
)
TARGET_OPERATORS = ("<=", ">=", "<", ">")
STRICT_OPERATORS = frozenset({"<", ">"})

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_INTERVAL = re.compile(r"^\s*(\S+)\s*-\s*(\S+)\s*$")


class RuleError(ValueError):
    @property
    def message(self):
        return self.args[0]


# --- scalars -----------------------------------------------------------------------------------


def check_timezone(name):
    if not isinstance(name, str) or not name.strip():
        raise RuleError("expected an IANA time zone name such as UTC or America/New_York")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = _close_zone(name)
        raise RuleError(
            f"unknown time zone {name!r}" + (f" (did you mean {hint!r}?)" if hint else "")
        ) from None
    return name


def _close_zone(name):
    from difflib import get_close_matches

    matches = get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.8)
    return matches[0] if matches else None


def check_duration(text, *, business_days=True):
    """A plan duration (``15m``, ``4h``, ``2d``, ``1w``, and ``2bd`` where allowed)."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise RuleError("expected a duration such as 15m, 4h, 2d or 1w")
    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise RuleError(str(exc)) from None
    if duration.business_days and not business_days:
        raise RuleError(f"{text!r}: business days (bd) only apply to SLA timers; use h, d or w")
    return str(text).strip()


def duration_minutes(text):
    return parse_duration(text).minutes


def parse_time(text, *, allow_24=False):
    """``"09:00"`` → ``(9, 0)``; ``"24:00"`` only as the end of an interval."""
    match = _TIME.match(str(text).strip()) if isinstance(text, str) else None
    if not match:
        raise RuleError(f"{text!r} is not a time: use HH:MM, e.g. 09:00")
    hour, minute = int(match[1]), int(match[2])
    if (hour, minute) == (24, 0) and allow_24:
        return 24, 0
    if hour > 23 or minute > 59:
        raise RuleError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return hour, minute


def to_time(text):
    hour, minute = parse_time(text)
    return time(hour, minute)


def parse_percent(value, *, low=Decimal(0), high=Decimal(100), what="a percentage"):
    """``75%``, ``"99.9"`` or ``99.9`` → ``Decimal``; refuses values outside ``[low, high]``."""
    if isinstance(value, bool) or value is None:
        raise RuleError(f"expected {what}, e.g. 75%")
    text = str(value).strip()
    if text.endswith("%"):
        text = text[:-1].strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RuleError(f"{value!r} is not {what}: write a number, e.g. 75%") from None
    if not number.is_finite() or not low <= number <= high:
        raise RuleError(f"{value!r} is out of range: {what} must be between {low} and {high}")
    return number


def check_warn_at(value):
    return parse_percent(
        value, low=Decimal(1), high=Decimal(99), what="warn_at, a percentage of the timer,"
    )


def parse_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RuleError(f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-12-25") from None


# --- weekdays and business hours ----------------------------------------------------------------


def parse_weekdays(spec):
    """``mon`` → ``["mon"]``; ``mon-fri`` → five days; ``sat-sun`` → two; commas join parts."""
    if not isinstance(spec, str) or not spec.strip():
        raise RuleError("expected a weekday or range such as mon, mon-fri or sat-sun")
    days = []
    for part in spec.lower().split(","):
        part = part.strip()
        bounds = [bound.strip() for bound in part.split("-")]
        for bound in bounds:
            if bound not in WEEKDAYS:
                raise RuleError(
                    f"{part!r} is not a weekday or range: use {', '.join(WEEKDAYS)} "
                    "or a range such as mon-fri"
                )
        if len(bounds) == 1:
            days.append(bounds[0])
        elif len(bounds) == 2:
            first, last = WEEKDAYS.index(bounds[0]), WEEKDAYS.index(bounds[1])
            if last < first:
                raise RuleError(f"{part!r}: a range runs forward within the week, e.g. mon-fri")
            days.extend(WEEKDAYS[first : last + 1])
        else:
            raise RuleError(f"{part!r} is not a weekday range: use e.g. mon-fri")
    return days


def parse_interval(text):
    """``"09:00-18:00"`` → ``("09:00", "18:00")``; the end must come after the start."""
    match = _INTERVAL.match(text) if isinstance(text, str) else None
    if not match:
        raise RuleError(f"{text!r} is not an interval: use HH:MM-HH:MM, e.g. 09:00-18:00")
    start, end = parse_time(match[1]), parse_time(match[2], allow_24=True)
    if end <= start:
        raise RuleError(
            f"{text!r}: the end must be after the start (hours run within one day; "
            "a night shift is two intervals, e.g. 18:00-24:00 and 00:00-09:00)"
        )
    return f"{start[0]:02d}:{start[1]:02d}", f"{end[0]:02d}:{end[1]:02d}"


def parse_hours(spec):
    """Plan hours (``{"mon-fri": "09:00-18:00", "wed": [...]}``) → canonical week.

    Returns ``(week, errors)``: ``week`` maps each open weekday to its sorted intervals
    (``{"mon": [["09:00", "18:00"]]}``), ``errors`` is a list of ``(key, message)``; ``key`` is the
    day spec the error belongs to. Overlaps across specs (``mon-fri`` and ``wed``) are found too.
    """
    errors = []
    week = {}
    origin = {}
    for key, value in spec.items():
        try:
            days = parse_weekdays(key)
        except RuleError as exc:
            errors.append((key, exc.message))
            continue
        values = value if isinstance(value, list) else [value]
        if not values:
            errors.append((key, "expected at least one interval such as 09:00-18:00"))
        for text in values:
            try:
                interval = parse_interval(text)
            except RuleError as exc:
                errors.append((key, exc.message))
                continue
            for day in days:
                week.setdefault(day, []).append(list(interval))
                origin[(day, interval)] = key
    for day in WEEKDAYS:
        intervals = sorted(week.get(day, []))
        for previous, current in zip(intervals, intervals[1:], strict=False):
            if current[0] < previous[1]:
                key = origin[(day, tuple(current))]
                other = origin[(day, tuple(previous))]
                where = f" (from {other!r})" if other != key else ""
                errors.append(
                    (
                        key,
                        f"{day}: {current[0]}-{current[1]} overlaps "
                        f"{previous[0]}-{previous[1]}{where}",
                    )
                )
        if intervals:
            week[day] = intervals
    ordered = {day: week[day] for day in WEEKDAYS if day in week}
    return ordered, errors


def check_week(week):
    """Check a canonical week (as stored on ``Calendar.hours``); raise the first problem."""
    if not isinstance(week, dict):
        raise RuleError('expected weekdays mapped to intervals, e.g. {"mon": [["09:00", "18:00"]]}')
    spec = {}
    for day, intervals in week.items():
        if not isinstance(intervals, list):
            raise RuleError(f"{day}: expected a list of intervals")
        texts = []
        for interval in intervals:
            if isinstance(interval, (list, tuple)) and len(interval) == 2:
                texts.append(f"{interval[0]}-{interval[1]}")
            else:
                texts.append(str(interval))
        spec[day] = texts
    canonical, errors = parse_hours(spec)
    if errors:
        raise RuleError("; ".join(message for _key, message in errors))
    return canonical


def week_to_spec(week):
    """Canonical week → the plan's compact form, joining runs of days with the same hours."""
    spec = {}
    index = 0
    while index < len(WEEKDAYS):
        day = WEEKDAYS[index]
        if day not in week:
            index += 1
            continue
        last = index
        while last + 1 < len(WEEKDAYS) and week.get(WEEKDAYS[last + 1]) == week[day]:
            last += 1
        key = day if last == index else f"{day}-{WEEKDAYS[last]}"
        texts = [f"{start}-{end}" for start, end in week[day]]
        spec[key] = texts[0] if len(texts) == 1 else texts
        index = last + 1
    return spec


def always_open_week():
    return {day: [["00:00", "24:00"]] for day in WEEKDAYS}


def check_handoff(text):
    """``"mon 09:00"`` → ``("mon", "09:00")``."""
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 2 or parts[0].lower() not in WEEKDAYS:
        raise RuleError(
            f"{text!r} is not a weekly handoff: use a weekday and a time, e.g. mon 09:00"
        )
    hour, minute = parse_time(parts[1])
    return f"{parts[0].lower()} {hour:02d}:{minute:02d}"


# --- maintenance windows -----------------------------------------------------------------------

_RRULE_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")


def check_rrule(text):
    """An RFC 5545 RRULE for a window: FREQ is required, the time of day comes from ``start``."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("expected an RRULE such as FREQ=WEEKLY;BYDAY=SU")
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    if "\n" in rule or "DTSTART" in rule.upper():
        raise RuleError("give only the RRULE part (no DTSTART): the time of day comes from `start`")
    parts = {}
    for part in rule.split(";"):
        name, _, value = part.partition("=")
        parts[name.strip().upper()] = value.strip().upper()
    if "FREQ" not in parts:
        raise RuleError(f"{text!r}: an RRULE needs FREQ, e.g. FREQ=MONTHLY;BYDAY=+1MO")
    if parts["FREQ"] not in _RRULE_FREQS:
        raise RuleError(
            f"{text!r}: FREQ must be one of {', '.join(_RRULE_FREQS)} "
            "(a window happens at most once a day)"
        )
    for name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        if name in parts:
            raise RuleError(f"{text!r}: drop {name}; the time of day comes from the window's start")
    try:
        expand_rule(rule, datetime(2026, 1, 1))
    except (ValueError, TypeError, KeyError) as exc:
        raise RuleError(f"{text!r} is not a valid RRULE: {exc}") from None
    return rule


def expand_rule(rule, dtstart):
    """``rrulestr`` with a naive ``dtstart``; an UNTIL in UTC (``…Z``) is read as naive too.

    dateutil refuses a UTC UNTIL with a naive start, though RFC 5545 writes UNTIL in UTC; for a
    daily-or-slower window the few hours between UTC and local time do not matter here.
    """
    until = re.search(r"UNTIL=(\d{8}(?:T\d{6})?)Z", rule, flags=re.IGNORECASE)
    if until:
        rule = rule[: until.start()] + f"UNTIL={until[1]}" + rule[until.end() :]
    return rrulestr(rule, dtstart=dtstart)


def parse_slot(text):
    """``"02:00-06:00 America/New_York"`` → ``(start, end, zone)``; may cross midnight."""
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 2 or "-" not in parts[0]:
        raise RuleError(
            f"{text!r} is not a slot: use HH:MM-HH:MM and a time zone, "
            "e.g. 02:00-06:00 America/New_York"
        )
    start_text, _, end_text = parts[0].partition("-")
    start, end = parse_time(start_text), parse_time(end_text, allow_24=True)
    if start == end:
        raise RuleError(f"{text!r}: the slot is empty")
    check_timezone(parts[1])
    return time(*start), (time(0) if end == (24, 0) else time(*end)), parts[1]


def _local(day, start, zone):
    return to_utc(datetime.combine(day, start), zone)


def check_window_in_slot(*, slot, start, duration, timezone, rrule=None, on_date=None, today):
    """Every occurrence's local start and end fall inside the daily ``slot`` in the slot's zone.

    Across zones the offset depends on the date, so a recurring window is checked on its
    occurrences in a winter and a summer month of ``today``'s year; a one-off on its date.
    """
    slot_start, slot_end, slot_zone = parse_slot(slot)
    minutes = duration_minutes(duration)
    slot_minutes = _minutes_between(slot_start, slot_end) or 24 * 60
    if on_date is not None:
        days = [on_date]
    elif timezone == slot_zone:
        days = [today]
    else:
        rule = expand_rule(check_rrule(rrule), datetime(today.year, 1, 1))
        days = []
        for month in (1, 7):
            first = datetime(today.year, month, 1)
            found = rule.after(first, inc=True)
            if found is not None:
                days.append(found.date())
        days = days or [today]
    for day in days:
        begins = _local(day, start, timezone).astimezone(ZoneInfo(slot_zone))
        offset = _minutes_between(slot_start, begins.time().replace(second=0, microsecond=0))
        if offset >= slot_minutes or offset + minutes > slot_minutes:
            ends = begins + timedelta(minutes=minutes)
            where = (
                f" ({begins:%H:%M}-{ends:%H:%M} {slot_zone} on {day.isoformat()})"
                if timezone != slot_zone
                else ""
            )
            raise RuleError(
                f"the window {start:%H:%M} for {duration} {timezone}{where} is outside the "
                f"allowed slot {slot}"
            )


def _minutes_between(earlier, later):
    """Minutes from clock time ``earlier`` forward to ``later`` (wrapping past midnight)."""
    first = earlier.hour * 60 + earlier.minute
    second = later.hour * 60 + later.minute
    return (second - first) % (24 * 60)


def split_target(name, value):
    """``">95"`` → ``(">", "95")``; a bare value → ``("", value)`` unchanged.

    The operator must point the metric's better way (``<`` for times to repair, ``>`` for
    uptime, rates and scores): ``mttr: ">4h"`` would call a slower repair a success.
    """
    if not isinstance(value, str):
        return "", value
    text = value.strip()
    for operator in TARGET_OPERATORS:
        if text.startswith(operator):
            rest = text[len(operator) :].strip()
            lower = name in LOWER_IS_BETTER
            if operator.startswith("<") != lower:
                better = "lower" if lower else "higher"
                raise RuleError(
                    f"{value!r}: {operator} would make a worse {name} a success; {name} is "
                    f"better {better}, so write {'<' if lower else '>'} or "
                    f"{'<=' if lower else '>='}"
                )
            if not rest:
                raise RuleError(f"{value!r}: a value must follow {operator}")
            return operator, int(rest) if rest.isdigit() else rest
    return "", value


def target_text(name, value, *, strict):
    """How an export writes a target back: ``"<4h"``, ``">95"``, or the bare value."""
    if not strict or value is None:
        return value
    return f"{'<' if name in LOWER_IS_BETTER else '>'}{value}"
