"""Periods of a zone: whole local days, ISO weeks, months, quarters and years, their UTC bounds
and names (hand-checked instants; pure, no database, no clock)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from core import periods
from core.periods import (
    DAY,
    MONTH,
    QUARTER,
    WEEK,
    YEAR,
    add_months,
    between,
    containing,
    custom,
    month_bounds,
    month_of,
    parse,
    parse_month,
)

NY, BERLIN = "America/New_York", "Europe/Berlin"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_iso_week_53_spans_the_new_year_and_is_named_by_its_iso_year():
    """1 January 2027 is a Friday of ISO week 53 of 2026 (Mon 28 Dec – Sun 3 Jan)."""
    week = containing(WEEK, date(2027, 1, 1), "UTC")
    assert (week.first, week.last) == (date(2026, 12, 28), date(2027, 1, 3))
    assert week.label == "week 53 2026"
    after = week.next()
    assert (after.first, after.label) == (date(2027, 1, 4), "week 1 2027")
    assert week.end == utc(2027, 1, 4)


def test_a_week_that_starts_in_december_can_be_week_1_of_the_next_year():
    """Wednesday 31 December 2025 belongs to ISO week 1 of 2026, which began on 29 December."""
    week = containing(WEEK, date(2025, 12, 31), "UTC")
    assert (week.first, week.last, week.label) == (
        date(2025, 12, 29),
        date(2026, 1, 4),
        "week 1 2026",
    )
    assert containing(WEEK, date(2026, 11, 24), "UTC").label == "week 48 2026"


def test_quarter_boundary_in_berlin_just_after_the_spring_change():
    """Q1 2026 ends with 31 March; Berlin is on CEST since 29 March, so Q1 ends at
    1 April 00:00 CEST = 31 March 22:00 UTC, and Q2 starts then."""
    q1 = containing(QUARTER, date(2026, 3, 31), BERLIN)
    assert (q1.first, q1.last, q1.label, q1.value) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
        "Q1 2026",
        "2026-Q1",
    )
    assert q1.start == utc(2025, 12, 31, 23)  # CET, UTC+1
    assert q1.end == utc(2026, 3, 31, 22)  # CEST, UTC+2
    q2 = containing(QUARTER, date(2026, 4, 1), BERLIN)
    assert q1.next() == q2 and q2.start == q1.end
    assert q2.last == date(2026, 6, 30)
    q4 = containing(QUARTER, date(2026, 11, 24), BERLIN)
    assert (q4.first, q4.last, q4.next().label) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
        "Q1 2027",
    )


def test_week_with_the_spring_forward_in_new_york_lasts_167_hours():
    """Mon 2 – Sun 8 March 2026 (clocks spring forward on the 8th): starts 05:00 UTC (EST),
    ends Monday 9 March 00:00 EDT = 04:00 UTC."""
    week = containing(WEEK, date(2026, 3, 8), NY)
    assert (week.start, week.end) == (utc(2026, 3, 2, 5), utc(2026, 3, 9, 4))
    assert week.end - week.start == timedelta(hours=167)


def test_week_with_the_fall_back_in_new_york_lasts_169_hours():
    week = containing(WEEK, date(2026, 11, 1), NY)
    assert (week.first, week.last) == (date(2026, 10, 26), date(2026, 11, 1))
    assert week.end == utc(2026, 11, 2, 5)  # 00:00 EST
    assert week.end - week.start == timedelta(hours=169)


def test_days_of_the_clock_changes_in_berlin_last_23_and_25_hours():
    spring = containing(DAY, date(2026, 3, 29), BERLIN)
    fall = containing(DAY, date(2026, 10, 25), BERLIN)
    assert (spring.start, spring.end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert spring.end - spring.start == timedelta(hours=23)
    assert fall.end - fall.start == timedelta(hours=25)
    assert spring.label == "2026-03-29"


def test_a_midnight_that_does_not_exist_begins_at_the_end_of_the_gap():
    """Santiago springs forward at midnight (6 September 2026: 00:00 → 01:00): the day before
    ends at 01:00 local, -03, which is 04:00 UTC, and 6 September starts then."""
    day = containing(DAY, date(2026, 9, 5), "America/Santiago")
    assert day.start == utc(2026, 9, 5, 4)  # 00:00 -04
    assert day.end == utc(2026, 9, 6, 4)
    assert day.next().start == day.end


def test_months_including_a_leap_february_and_december():
    feb = containing(MONTH, date(2028, 2, 10), "Asia/Tokyo")
    assert (feb.first, feb.last, feb.label, feb.value) == (
        date(2028, 2, 1),
        date(2028, 2, 29),
        "February 2028",
        "2028-02",
    )
    dec = containing(MONTH, date(2026, 12, 31), "Asia/Tokyo")
    assert (dec.last, dec.next().first, dec.next().label) == (
        date(2026, 12, 31),
        date(2027, 1, 1),
        "January 2027",
    )
    assert dec.end == utc(2026, 12, 31, 15)


def test_a_year():
    year = containing(YEAR, date(2026, 7, 4), "America/Los_Angeles")
    assert (year.first, year.last, year.label, year.value) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        "2026",
        "2026",
    )
    assert year.end == utc(2027, 1, 1, 8)


def test_between_lists_each_period_touching_the_range_once():
    weeks = list(between(WEEK, date(2026, 12, 20), date(2027, 1, 5), "UTC"))
    assert [w.label for w in weeks] == [
        "week 51 2026",
        "week 52 2026",
        "week 53 2026",
        "week 1 2027",
    ]
    quarters = list(between(QUARTER, date(2026, 3, 31), date(2026, 4, 1), "UTC"))
    assert [q.label for q in quarters] == ["Q1 2026", "Q2 2026"]
    days = list(between(DAY, date(2026, 2, 27), date(2026, 3, 1), NY))
    assert [d.first for d in days] == [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)]


def test_shifted_steps_whole_periods_back_and_forth():
    nov = containing(MONTH, date(2026, 11, 15), NY)
    assert (nov.shifted(-1).label, nov.shifted(2).label) == ("October 2026", "January 2027")
    assert containing(QUARTER, date(2026, 1, 5), NY).shifted(-1).label == "Q4 2025"
    assert containing(YEAR, date(2026, 1, 5), NY).shifted(1).label == "2027"
    assert containing(WEEK, date(2027, 1, 1), NY).shifted(1).label == "week 1 2027"
    assert containing(DAY, date(2026, 3, 1), NY).shifted(-1).first == date(2026, 2, 28)


def test_weeks_of_a_month_start_on_the_monday_before_its_first_day():
    nov = containing(MONTH, date(2026, 11, 1), "UTC")
    assert nov.weeks()[0] == date(2026, 10, 26)
    assert nov.weeks()[-1] == date(2026, 11, 30)
    assert len(nov.weeks()) == 6


def test_custom_ranges_are_checked():
    period = custom(date(2026, 1, 1), date(2026, 1, 31), NY)
    assert period.label == "2026-01-01 to 2026-01-31" and period.value == ""
    with pytest.raises(ValueError, match="ends before it starts"):
        custom(date(2026, 2, 1), date(2026, 1, 31), NY)
    with pytest.raises(ValueError, match="at most 10 days"):
        custom(date(2026, 1, 1), date(2026, 1, 31), NY, max_days=10)
    with pytest.raises(ValueError, match="out of range"):
        custom(date(1969, 12, 31), date(1970, 1, 1), NY)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="fortnight"):
        containing("fortnight", date(2026, 1, 1), "UTC")


@pytest.mark.parametrize(
    ("kind", "text", "first"),
    [
        (MONTH, "2026-11", date(2026, 11, 1)),
        (QUARTER, "2026-Q4", date(2026, 10, 1)),
        (QUARTER, "2026q1", date(2026, 1, 1)),
        (YEAR, " 2026 ", date(2026, 1, 1)),
    ],
)
def test_parse_reads_what_value_writes(kind, text, first):
    assert parse(kind, text) == first
    assert parse(kind, containing(kind, first, "UTC").value) == first


@pytest.mark.parametrize(
    ("kind", "text"),
    [(MONTH, "2026-13"), (MONTH, "1969-12"), (QUARTER, "2026-Q5"), (YEAR, "99999"), ("x", "1")],
)
def test_parse_refuses_with_a_reason(kind, text):
    with pytest.raises(ValueError, match="not a|out of range"):
        parse(kind, text)


def test_month_helpers():
    assert add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert parse_month("2026-02") == date(2026, 2, 1)
    # 23:30 on 31 January in New York is 04:30 UTC on 1 February: still January there.
    assert month_of(utc(2026, 2, 1, 4, 30), NY) == date(2026, 1, 1)
    assert month_bounds(date(2026, 3, 1), NY) == (utc(2026, 3, 1, 5), utc(2026, 4, 1, 4))
    assert periods.next_quarter_start(date(2026, 11, 30)) == date(2027, 1, 1)
