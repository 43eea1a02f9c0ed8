"""Occurrences of maintenance windows: pure functions, no ORM, no clock.

A window's times are wall-clock times in its zone (``plan-format.md``): 02:00 America/New_York
stays 02:00 local across DST. On the night the clock springs forward a start that does not
exist moves to the first valid minute after it, and the end stays at its local end; on the
night it falls back an ambiguous time means its first occurrence (``fold=0``): the one rule of
``core.zones.to_utc``, which every app shares.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from core.zones import to_utc, zone
from sla.plan import rules


@dataclass(frozen=True)
class Slot:
    """One expansion of a rule: the local wall-clock start it came from and its UTC interval."""

    local_start: datetime  # naive, in the window's zone
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC


@dataclass
class Occurrence:
    """One occurrence of a window, after its exception (cancelled or moved) is applied.

    ``original_start`` (UTC) names the occurrence for good: it is what exceptions, notices and
    the calendar feed's RECURRENCE-ID refer to, however often the occurrence is moved.
    """

    window: object
    original_start: datetime
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False
    moved: bool = False
    reason: str = ""
    local_start: datetime | None = field(default=None, repr=False)

    @property
    def service(self):
        return self.window.service

    @property
    def key(self):
        """Stable text id of the occurrence: window id and original start in UTC."""
        return occurrence_key(self.window.pk, self.original_start)

    def in_progress(self, now):
        return not self.cancelled and self.starts_at <= now < self.ends_at


def occurrence_key(window_id, original_start):
    return f"{window_id}:{original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def notice_round_key(window_id, original_start, kind, lead):
    """Unique key of a notice round: its kind, its occurrence and its lead (or version)."""
    return f"{kind}:{occurrence_key(window_id, original_start)}:{lead}"


def slot_for(local_start, minutes, tz):
    """UTC interval of a window starting at naive ``local_start``, ``minutes`` of wall time."""
    starts_at = to_utc(local_start, tz)
    ends_at = to_utc(local_start + timedelta(minutes=minutes), tz)
    if ends_at <= starts_at:  # a window wholly inside a DST gap still lasts its real duration
        ends_at = starts_at + timedelta(minutes=minutes)
    return Slot(local_start, starts_at, ends_at)


@lru_cache(maxsize=4096)
def _rule(rrule_text, anchor):
    return rules.expand_rule(rrule_text, anchor)


_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7}


def shifted_anchor(rrule, anchor, before):
    """The latest date no later than ``before`` that starts the same rule as ``anchor`` does.

    dateutil walks a rule from its DTSTART, so a rule anchored years ago costs an iteration per
    past occurrence. Moving DTSTART by whole multiples of the rule's period (FREQ × INTERVAL)
    yields the same occurrences, except for a COUNT, which counts from the real start.
    """
    parts = dict(part.partition("=")[::2] for part in rrule.upper().split(";"))
    if "COUNT" in parts or before <= anchor:
        return anchor
    interval = int(parts.get("INTERVAL") or 1)
    freq = parts.get("FREQ")
    if freq in _PERIOD_DAYS:
        step = _PERIOD_DAYS[freq] * interval
        return anchor + timedelta(days=(before - anchor).days // step * step)
    months = interval * (12 if freq == "YEARLY" else 1)
    elapsed = (before.year - anchor.year) * 12 + before.month - anchor.month - 1
    if elapsed < months:
        return anchor
    shift = elapsed // months * months
    month = anchor.month - 1 + shift
    year, month = anchor.year + month // 12, month % 12 + 1
    try:
        return anchor.replace(year=year, month=month)
    except ValueError:  # the 31st (or 29 February) does not exist there: keep the real start
        return anchor


def rule_anchor(anchor_date, start):
    """DTSTART of a window's rule: its anchor date at its local start time (naive)."""
    return datetime.combine(anchor_date, start)


def expand(*, rrule, on_date, start, minutes, tz_name, anchor, range_start, range_end):
    """Every slot of one window whose UTC interval overlaps ``[range_start, range_end)``.

    ``rrule`` (RFC 5545 RRULE text) or ``on_date`` (a one-off); ``start`` the local start time;
    ``minutes`` the wall-clock duration; ``anchor`` the rule's first possible date (DTSTART).
    """
    tz = zone(tz_name)
    if not rrule:
        candidates = [datetime.combine(on_date, start)]
    else:
        # Local bounds wide enough for any offset (±26 h) and for windows that began earlier.
        low = range_start.astimezone(tz).replace(tzinfo=None) - timedelta(minutes=minutes, days=2)
        high = range_end.astimezone(tz).replace(tzinfo=None) + timedelta(days=2)
        rule = _rule(rrule, rule_anchor(shifted_anchor(rrule, anchor, low.date()), start))
        candidates = rule.between(low, high, inc=True)
    slots = []
    for local_start in candidates:
        slot = slot_for(local_start, minutes, tz)
        if slot.starts_at < range_end and slot.ends_at > range_start:
            slots.append(slot)
    return slots


def first_slot(*, rrule, on_date, start, minutes, tz_name, anchor):
    """The rule's first slot (the calendar feed's DTSTART), or the one-off's slot."""
    tz = zone(tz_name)
    if not rrule:
        return slot_for(datetime.combine(on_date, start), minutes, tz)
    local_start = _rule(rrule, rule_anchor(anchor, start)).after(
        rule_anchor(anchor, start), inc=True
    )
    return None if local_start is None else slot_for(local_start, minutes, tz)


def apply_exceptions(window, slots, exceptions, range_start, range_end):
    """Occurrences of ``window`` in range: its slots with cancellations and moves applied.

    ``exceptions`` maps an original start (UTC) to an object with ``cancelled``,
    ``new_start``, ``new_end`` and ``reason``. An occurrence moved into the range from outside
    it is included, one moved out of it is not.
    """
    occurrences = []
    seen = set()
    for slot in slots:
        seen.add(slot.starts_at)
        exc = exceptions.get(slot.starts_at)
        occurrence = Occurrence(window, slot.starts_at, slot.starts_at, slot.ends_at)
        occurrence.local_start = slot.local_start
        if exc is not None:
            occurrence.reason = exc.reason
            if exc.cancelled:
                occurrence.cancelled = True
            elif exc.new_start is not None:
                occurrence.moved = True
                occurrence.starts_at, occurrence.ends_at = exc.new_start, exc.new_end
                if not (occurrence.starts_at < range_end and occurrence.ends_at > range_start):
                    continue
        occurrences.append(occurrence)
    for original_start, exc in exceptions.items():
        if original_start in seen or exc.cancelled or exc.new_start is None:
            continue
        if exc.new_start < range_end and exc.new_end > range_start:
            occurrence = Occurrence(
                window, original_start, exc.new_start, exc.new_end, moved=True, reason=exc.reason
            )
            occurrences.append(occurrence)
    return occurrences
