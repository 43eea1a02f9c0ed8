"""Figures as the uptime pages write them (the template filters and the bars' titles)."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal


def percent_text(value):
    """Availability to three decimals, rounded down so a second of downtime never reads 100."""
    if value is None:
        return "—"
    shown = Decimal(value).quantize(Decimal("0.001"), rounding=ROUND_DOWN).normalize()
    return f"{shown:f}"


def minutes_text(value):
    """Minutes to two decimals without trailing zeros: "4.32", "42.6", "60" (a P0 budget of
    99.99 % is 4.32 minutes a month; one decimal would hide a fifth of it)."""
    if value is None:
        return "—"
    shown = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{shown:f}"


def day_text(day):
    """ "Thu 3 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"
