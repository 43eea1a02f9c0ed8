"""Support months on the service's clock: the bounds are hand-checked UTC instants."""

from datetime import UTC, date, datetime

import pytest

from core.periods import add_months, month_bounds, month_of, parse_month, previous_month

NY = "America/New_York"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_late_on_the_last_evening_of_january_in_new_york_is_still_january():
    """23:30 on 31 January in New York is 04:30 UTC on 1 February: it counts in January."""
    assert month_of(utc(2026, 2, 1, 4, 30), NY) == date(2026, 1, 1)
    assert month_of(utc(2026, 2, 1, 5, 0), NY) == date(2026, 2, 1)
    assert month_of(utc(2026, 2, 1, 4, 30), "UTC") == date(2026, 2, 1)


@pytest.mark.parametrize(
    ("month", "start", "end"),
    [
        # EST both ends: midnight is 05:00 UTC.
        (date(2026, 1, 1), utc(2026, 1, 1, 5), utc(2026, 2, 1, 5)),
        # DST begins on 8 March: the month starts at 05:00 UTC and ends at 04:00 UTC.
        (date(2026, 3, 1), utc(2026, 3, 1, 5), utc(2026, 4, 1, 4)),
        # DST ends on 1 November: the month starts at 04:00 UTC and ends at 05:00 UTC.
        (date(2026, 11, 1), utc(2026, 11, 1, 4), utc(2026, 12, 1, 5)),
        # Across the year.
        (date(2026, 12, 1), utc(2026, 12, 1, 5), utc(2027, 1, 1, 5)),
    ],
)
def test_month_bounds_in_new_york(month, start, end):
    assert month_bounds(month, NY) == (start, end)


def test_month_bounds_in_utc_are_midnights():
    assert month_bounds(date(2026, 2, 1), "UTC") == (utc(2026, 2, 1), utc(2026, 3, 1))


def test_consecutive_months_tile_time():
    """The end of each month is the start of the next: no instant is in two months or none."""
    month = date(2025, 1, 1)
    for _ in range(36):
        assert month_bounds(month, NY)[1] == month_bounds(add_months(month, 1), NY)[0]
        month = add_months(month, 1)


def test_month_arithmetic_across_years():
    assert previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), -13) == date(2024, 12, 1)


def test_a_month_whose_first_midnight_does_not_exist_starts_at_the_first_real_instant():
    """Asunción sprang forward at 00:00 on 1 October 2023 (straight to 01:00, UTC−3): October
    starts at 04:00 UTC, which is also where September (UTC−4) ends."""
    tz = "America/Asuncion"
    assert month_bounds(date(2023, 10, 1), tz)[0] == utc(2023, 10, 1, 4)
    assert month_bounds(date(2023, 9, 1), tz)[1] == utc(2023, 10, 1, 4)
    assert month_of(utc(2023, 10, 1, 3, 59), tz) == date(2023, 9, 1)
    assert month_of(utc(2023, 10, 1, 4), tz) == date(2023, 10, 1)


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-01", date(2026, 1, 1)),
        (" 2026-12 ", date(2026, 12, 1)),
        ("2026-13", None),
        ("2026-00", None),
        ("2026-1", None),
        ("January", None),
        ("", None),
        (None, None),
    ],
)
def test_months_in_the_admins_query_strings(text, month):
    """The usage report's and the time-entry filter's ``month=`` (``core.periods.parse_month``):
    anything but YYYY-MM is refused with the reason."""
    if month is None:
        with pytest.raises(ValueError, match="is not a month"):
            parse_month(text)
    else:
        assert parse_month(text) == month
