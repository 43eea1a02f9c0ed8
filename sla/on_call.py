"""Who is on call: a weekly rotation with a local handoff time, in layers, with overrides.

Pure (STYLE.md rule 6): the members, the handoff, the zone, the moment and the overrides are
all arguments. The rotation is anchored on a fixed week, so it needs no stored state: in week
``w`` (counted in whole handoffs since the anchor) layer ``i`` is ``members[(w + i) % n]`` —
this week's secondary is next week's primary. The handoff is wall-clock time in the service's
zone, so it stays "Monday 09:00" across DST changes (that week is an hour shorter or longer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.zones import to_utc

from .clock import WEEKDAYS

DEFAULT_HANDOFF = "mon 09:00"
DEFAULT_LAYERS = ("primary", "secondary")
# A Monday; any fixed date works, it only numbers the weeks.
_ANCHOR = date(2024, 1, 1)


def parse_handoff(handoff: str) -> tuple[int, time]:
    """``"mon 09:00"`` → ``(0, time(9, 0))``."""
    day, _, clock = (handoff or DEFAULT_HANDOFF).strip().lower().partition(" ")
    hour, minute = (int(part) for part in clock.strip().split(":"))
    return WEEKDAYS.index(day), time(hour, minute)


def rotation_start(handoff: str, tz: ZoneInfo | str, at: datetime) -> tuple[int, datetime]:
    """The rotation week in force at ``at``: its number and the instant (UTC) it began."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    weekday, at_time = parse_handoff(handoff)
    local_day = at.astimezone(tz).date()
    day = local_day - timedelta(days=(local_day.weekday() - weekday) % 7)
    began = to_utc(datetime.combine(day, at_time), tz)
    if began > at:
        day -= timedelta(days=7)
        began = to_utc(datetime.combine(day, at_time), tz)
    anchor = _ANCHOR + timedelta(days=weekday)
    return (day - anchor).days // 7, began.astimezone(UTC)


def on_call_for(
    members: Sequence,
    handoff: str,
    tz: ZoneInfo | str,
    at: datetime,
    overrides: Iterable = (),
    layers: Sequence[str] = DEFAULT_LAYERS,
) -> dict:
    """``{layer: user}`` on call at ``at``.

    ``members`` is the rotation in order; ``overrides`` are objects with ``layer``, ``user``,
    ``starts_at`` and ``ends_at`` (half-open ``[starts_at, ends_at)``); the override that
    started last wins. A layer nobody can hold (fewer members than layers) is left out, and
    one person never holds two layers from the rotation alone.
    """
    layers = list(layers) or list(DEFAULT_LAYERS)
    result = {}
    if members:
        week, _ = rotation_start(handoff, tz, at)
        for i, layer in enumerate(layers[: len(members)]):
            result[layer] = members[(week + i) % len(members)]
    active = sorted(
        (o for o in overrides if o.starts_at <= at < o.ends_at and o.layer in layers),
        key=lambda o: o.starts_at,
    )
    for override in active:
        result[override.layer] = override.user
    return {layer: result[layer] for layer in layers if layer in result}
