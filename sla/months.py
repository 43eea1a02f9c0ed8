"""Calendar months as dates (the first of the month): pure arithmetic, no time zone.

Shared by the apps that report per month (support hours, uptime, success metrics); each turns
a month into UTC instants in its own service's zone.
"""

import re
from datetime import date

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def first_of(day):
    return date(day.year, day.month, 1)


def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def next_month(month):
    return add_months(month, 1)


def previous_month(month):
    return add_months(month, -1)


def parse_month(text):
    """``"2026-11"`` → ``date(2026, 11, 1)``; anything else raises ValueError saying why."""
    found = _MONTH.fullmatch((text or "").strip())
    if not found:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12 or not 1970 <= year <= 2999:
        raise ValueError(f"{text!r} is not a month: the month is 01–12, the year 1970–2999")
    return date(year, month, 1)
