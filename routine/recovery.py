"""DR drills and backup restore tests: which routine tasks they are, and how they are judged.

The plan format has no "drill" flag, so a task is a recovery test when its category says so
(``dr``, ``drill``, ``recovery``, ``disaster-recovery``) or its name does ("Disaster recovery
drill", "Disaster recovery testing", "Backup restoration testing"). A plain backup check
("Backup verification", "Backup integrity verification") is not: it proves a backup exists,
not how fast and how fresh a restore is, so it has no RTO/RPO to record.

Targets come from the plan's ``targets.rto`` / ``targets.rpo``, or from one of its
``targets.recovery`` classes ("Critical", "Important", …) when the drill names one. An
achieved time at or under its target is met; under it only, when the plan wrote the target
strictly ("RPO < 1 hour": ``rpo: "<1h"``, kept as ``<1h`` with the drill's result).
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from sla.durations import parse_duration

RECOVERY_CATEGORIES = frozenset({"dr", "drill", "recovery", "disaster-recovery"})
_RECOVERY_NAME = re.compile(r"disaster[\s-]+recovery|\bdrill|\brestor(e|ed|ing|ation)\b", re.I)

_PART = re.compile(r"(\d+)\s*(d|h|m|s)")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def is_recovery_test(*, name, category):
    return (category or "").strip().lower() in RECOVERY_CATEGORIES or bool(
        _RECOVERY_NAME.search(name or "")
    )


def parse_achieved(text):
    """An achieved RTO/RPO as staff type it: ``45m``, ``1h30m``, ``2h``, ``30s``, ``0m``.

    Unlike a plan duration, zero is allowed: a restore that lost no data has an RPO of 0.
    Raises ``ValueError`` with a message for staff.
    """
    compact = re.sub(r"\s+", "", str(text or "")).lower()
    if not compact:
        raise ValueError("Give a time, e.g. 45m, 1h30m or 0m.")
    if compact.isdigit():
        compact += "m"  # a bare number is minutes, the plan's smallest unit
    parts = _PART.findall(compact)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != compact:
        raise ValueError(f"{text!r} is not a time: use e.g. 45m, 1h30m, 2h or 0m.")
    units = [u for _, u in parts]
    if len(set(units)) != len(units):
        raise ValueError(f"{text!r} names a unit twice.")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


def format_span(span):
    """``1h30m``, ``45m``, ``30s``, ``0m``: how a recorded time is shown back."""
    if span is None:
        return ""
    seconds = int(span.total_seconds())
    if seconds == 0:
        return "0m"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)


@dataclass(frozen=True)
class Targets:
    rto: str = ""  # as the plan wrote it, "1h"
    rpo: str = ""
    recovery_class: str = ""  # "" = the plan's overall rto/rpo


def targets_for(service_targets, recovery_class=""):
    """The RTO/RPO a drill is held to. ``service_targets`` is a ``ServiceTargets`` or None.

    Raises ``ValueError`` when ``recovery_class`` is not one of the plan's recovery classes.
    """
    if service_targets is None:
        if recovery_class:
            raise ValueError("the plan has no recovery classes")
        return Targets()
    if not recovery_class:
        return Targets(
            rto=service_targets.worded("rto") or "", rpo=service_targets.worded("rpo") or ""
        )
    for row in service_targets.recovery or ():
        if row.get("name") == recovery_class:
            return Targets(
                rto=row.get("rto") or "", rpo=row.get("rpo") or "", recovery_class=recovery_class
            )
    names = ", ".join(row.get("name", "?") for row in service_targets.recovery or ()) or "none"
    raise ValueError(f"{recovery_class!r} is not one of the plan's recovery classes ({names})")


def recovery_classes(service_targets):
    if service_targets is None:
        return []
    return [row["name"] for row in service_targets.recovery or () if row.get("name")]


def met(achieved, target):
    """True/False against a plan duration; None when there is no result or no usable target."""
    if achieved is None or not target:
        return None
    strict = target.startswith("<") and not target.startswith("<=")
    try:
        limit = parse_duration(target.lstrip("<="))
    except ValueError:
        return None
    if limit.business_days:  # "2bd" is not a span of time; a recovery target never is one
        return None
    return achieved < limit.timedelta if strict else achieved <= limit.timedelta
