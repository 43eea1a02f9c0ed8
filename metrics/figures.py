"""One figure of the dashboard: its value as shown, as exported, and against its target.

A value is rounded once, to what the page shows (whole minutes, 0.1 %, 0.01 of a score), and
that rounded value is both exported and compared with the target, so the page, the CSV and the
met/missed marker never disagree. Reaching the target exactly counts as met, as an SLA timer
that stops on its deadline is met — unless the plan worded the target strictly ("MTTR < 4
hours", "resolution rate > 95 %"): a value exactly on a strict target is missed.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sla.durations import parse_duration

NO_VALUE = "—"
MET, MISSED, NO_TARGET, NO_DATA = "met", "missed", "no target", "no data"
MINUTES, PERCENT, SCORE, COUNT = "minutes", "percent", "score of 5", "count"


@dataclass(frozen=True)
class Target:
    number: Decimal  # in the figure's unit
    display: str  # "≤ 4 h", "≥ 95.0 %"; strict: "< 4 h", "> 95.0 %"
    higher_is_better: bool
    strict: bool = False  # the value must beat the target, not just reach it

    def judge(self, number):
        if number is None:
            return NO_DATA
        if number == self.number:
            return MISSED if self.strict else MET
        if self.higher_is_better:
            return MET if number > self.number else MISSED
        return MET if number < self.number else MISSED


def _sign(higher_is_better, strict):
    if higher_is_better:
        return ">" if strict else "≥"
    return "<" if strict else "≤"


@dataclass(frozen=True)
class Figure:
    key: str  # stable machine name, the CSV's ``metric`` column
    label: str
    number: object  # Decimal or int in ``unit``, rounded as shown; None: nothing to measure
    unit: str
    display: str
    detail: str = ""
    target: Target | None = None
    result: str = ""  # met / missed / no target / no data; "" for figures that take no target

    @property
    def target_display(self):
        return self.target.display if self.target else ""


def figure(key, label, number, unit, *, detail="", target=None, judged=False, display=None):
    """A figure; ``judged`` ones get a result even without a target ("no target")."""
    result = ""
    if judged:
        result = target.judge(number) if target else NO_TARGET
    return Figure(key, label, number, unit, display or show(number, unit), detail, target, result)


def show(number, unit):
    if number is None:
        return NO_VALUE
    if unit == MINUTES:
        return show_minutes(number)
    if unit == PERCENT:
        return f"{number} %"
    if unit == SCORE:
        return f"{number} / 5"
    return f"{number:,}"


def show_minutes(minutes):
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours:,} h" if not rest else f"{hours:,} h {rest:02d} min"


def _round(value, places):
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def minutes(duration, count):
    """Mean of a summed duration over ``count`` items, in whole minutes; None when count is 0."""
    if not count:
        return None
    return int(_round(Decimal(duration.total_seconds()) / count / 60, 0))


def percent(part, whole):
    return _round(Decimal(part) * 100 / whole, 1) if whole else None


def score(total, count):
    return _round(Decimal(total) / count, 2) if count else None


# --- targets from the plan (sla.models.ServiceTargets), in the figures' units ---------------


def duration_target(text, *, higher_is_better, strict=False):
    """A plan duration as a target in minutes; None when unset.

    Business days (``2bd``) are not a fixed span of time, so a wall-clock mean cannot be
    compared with them: such a target is reported as absent rather than guessed.
    """
    if not text:
        return None
    duration = parse_duration(text)
    if duration.business_days:
        return None
    sign = _sign(higher_is_better, strict)
    return Target(
        Decimal(duration.minutes),
        f"{sign} {show_minutes(duration.minutes)}",
        higher_is_better,
        strict,
    )


def percent_target(value, *, strict=False):
    if value is None:
        return None
    number = _round(value, 1)
    return Target(number, f"{_sign(True, strict)} {number} %", True, strict)


def score_target(value, *, strict=False):
    if value is None:
        return None
    number = _round(value, 2)
    return Target(number, f"{_sign(True, strict)} {number} / 5", True, strict)
