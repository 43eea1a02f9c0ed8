"""Plan durations: ``15m``, ``4h``, ``2d``, ``1w`` and business days ``2bd``."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError

_PATTERN = re.compile(r"^(?P<amount>\d+)(?P<unit>m|h|d|w|bd)$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 24 * 60, "w": 7 * 24 * 60}


@dataclass(frozen=True)
class Duration:
    """Either a span of open time (``minutes``) or a count of business days."""

    minutes: int = 0
    business_days: int = 0

    @property
    def timedelta(self):
        return timedelta(minutes=self.minutes)

    def __str__(self):
        if self.business_days:
            return f"{self.business_days}bd"
        for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
            if self.minutes and self.minutes % size == 0:
                return f"{self.minutes // size}{unit}"
        return f"{self.minutes}m"


def parse_duration(text):
    """Parse a plan duration; raise ``ValueError`` naming the accepted forms."""
    match = _PATTERN.match(str(text).strip())
    if not match:
        raise ValueError(
            f"{text!r} is not a duration: use a whole number and a unit, "
            "e.g. 15m, 4h, 2d, 1w or 2bd (business days)"
        )
    amount, unit = int(match["amount"]), match["unit"]
    if amount == 0:
        raise ValueError(f"{text!r} is not a duration: it must be greater than zero")
    if unit == "bd":
        return Duration(business_days=amount)
    return Duration(minutes=amount * _UNIT_MINUTES[unit])


def validate_duration(value):
    if value in (None, ""):
        return
    try:
        parse_duration(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
