"""Availability of a period from outage spans and planned maintenance: pure functions.

No ORM, no clock: the caller passes ``now``. The formula (docs/operations.md, "Uptime"):

- **period** ``L``: the real time from the period's start to its end.
- **planned maintenance** ``M``: the union of the non-cancelled maintenance occurrences,
  clipped to the period (two windows overlapping count once).
- **downtime** ``D``: the union of the outage incidents' spans (start to resolve; an open one
  lasts until ``now``; two overlapping incidents count once), clipped to the period and to
  ``now`` (the future has had no downtime), minus the planned maintenance inside it.
- **availability** ``= 1 − D / (L − M)``, in percent; 100 % when ``L − M`` is zero (a future
  period, or one that is all planned maintenance, has not been down).
- **budget** for a target ``t`` %: ``(1 − t/100) · (L − M)``, the downtime the period may have
  and still meet ``t``; ``D ≤ budget`` exactly when availability ≥ ``t``.

Durations are counted in whole microseconds and the percentages in ``Decimal``, so comparing
availability with a target never turns on a float rounding.
"""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

HUNDRED = Decimal(100)


def merge(spans):
    """Sorted, disjoint spans covering the same time as ``spans``; empty ones are dropped."""
    merged = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(spans, start, end):
    """The parts of ``spans`` inside ``[start, end)``."""
    return [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]


def overlapping(merged, start, end):
    """The spans of the sorted, disjoint ``merged`` that overlap ``[start, end)``, found by
    bisection: a day of a 90-day bar looks at its own few spans, not at all of them."""
    first = bisect_right(merged, start, key=lambda span: span[1])
    found = []
    for span in merged[first:]:
        if span[0] >= end:
            break
        found.append(span)
    return found


def subtract(spans, holes):
    """The parts of the merged ``spans`` outside the merged ``holes``."""
    result = []
    for start, end in spans:
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                result.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            result.append((start, end))
    return result


def total(spans):
    return sum((end - start for start, end in spans), timedelta(0))


def _us(delta):
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def minutes(delta):
    """A duration in minutes, exactly (a ``Decimal``): the unit every page shows."""
    return Decimal(_us(delta)) / 60_000_000


@dataclass(frozen=True)
class Availability:
    start: datetime
    end: datetime
    planned: timedelta  # M
    downtime: timedelta  # D

    @property
    def period(self):  # L
        return self.end - self.start

    @property
    def eligible(self):
        """The time the service was promised to be up: the period less planned maintenance."""
        return self.period - self.planned

    @property
    def percent(self):
        eligible = _us(self.eligible)
        if eligible <= 0:
            return HUNDRED
        return HUNDRED - HUNDRED * _us(self.downtime) / eligible

    @property
    def downtime_minutes(self):
        return minutes(self.downtime)

    @property
    def planned_minutes(self):
        return minutes(self.planned)

    def budget(self, target):
        """The downtime allowed by ``target`` percent (a ``Decimal``) over this period."""
        allowed = _us(self.eligible) * (HUNDRED - Decimal(target)) / HUNDRED
        return timedelta(microseconds=max(int(allowed), 0))

    def meets(self, target):
        return self.downtime <= self.budget(target)


def measure(*, start, end, outages, maintenance, now):
    """The availability of ``[start, end)``.

    ``outages``: ``(started_at, resolved_at)`` pairs, ``resolved_at`` None while open;
    ``maintenance``: ``(starts_at, ends_at)`` of the planned (non-cancelled) occurrences.
    """
    planned = merge(clip(maintenance, start, end))
    until = min(end, now)
    down = merge((began, min(ended, now) if ended is not None else now) for began, ended in outages)
    downtime = subtract(clip(down, start, until), planned) if until > start else []
    return Availability(start=start, end=end, planned=total(planned), downtime=total(downtime))
