"""Period math: whole local days of the service's zone, due when the last one ends there."""

from datetime import UTC, date, datetime, timedelta

import pytest

from routine.periods import period_containing, periods_between


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_iso_week_53_spans_the_new_year_and_is_named_by_its_iso_year():
    """1 January 2027 is a Friday of ISO week 53 of 2026 (Mon 28 Dec – Sun 3 Jan)."""
    week = period_containing("weekly", date(2027, 1, 1))
    assert (week.start, week.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert week.label == "week 53 2026"
    after = week.next()
    assert (after.start, after.label) == (date(2027, 1, 4), "week 1 2027")
    assert week.due_at("UTC") == utc(2027, 1, 4)


def test_a_week_that_starts_in_december_can_be_week_1_of_the_next_year():
    """Wednesday 31 December 2025 belongs to ISO week 1 of 2026, which began on 29 December."""
    week = period_containing("weekly", date(2025, 12, 31))
    assert (week.start, week.end, week.label) == (
        date(2025, 12, 29),
        date(2026, 1, 4),
        "week 1 2026",
    )


def test_week_48_of_2026():
    week = period_containing("weekly", date(2026, 11, 24))
    assert (week.start, week.end, week.label) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
        "week 48 2026",
    )


def test_quarter_boundary_in_berlin_just_after_the_spring_change():
    """Q1 2026 ends with 31 March; Berlin is on CEST since 29 March, so Q1 is due at
    1 April 00:00 CEST = 31 March 22:00 UTC, and Q2 starts then."""
    q1 = period_containing("quarterly", date(2026, 3, 31))
    assert (q1.start, q1.end, q1.label) == (date(2026, 1, 1), date(2026, 3, 31), "Q1 2026")
    assert q1.starts_at("Europe/Berlin") == utc(2025, 12, 31, 23)  # CET, UTC+1
    assert q1.due_at("Europe/Berlin") == utc(2026, 3, 31, 22)  # CEST, UTC+2
    q2 = period_containing("quarterly", date(2026, 4, 1))
    assert (q2.start, q2.end, q2.label) == (date(2026, 4, 1), date(2026, 6, 30), "Q2 2026")
    assert q1.next() == q2
    assert q2.starts_at("Europe/Berlin") == q1.due_at("Europe/Berlin")
    q4 = period_containing("quarterly", date(2026, 11, 24))
    assert (q4.start, q4.end, q4.next().label) == (date(2026, 10, 1), date(2026, 12, 31), "Q1 2027")


def test_week_with_the_spring_forward_in_new_york_is_due_at_local_midnight_edt():
    """Mon 2 – Sun 8 March 2026 (clocks spring forward on the 8th): starts 05:00 UTC (EST),
    due Monday 9 March 00:00 EDT = 04:00 UTC; the week lasts 167 real hours."""
    week = period_containing("weekly", date(2026, 3, 8))
    assert week.starts_at("America/New_York") == utc(2026, 3, 2, 5)
    assert week.due_at("America/New_York") == utc(2026, 3, 9, 4)
    assert week.due_at("America/New_York") - week.starts_at("America/New_York") == timedelta(
        hours=167
    )


def test_week_with_the_fall_back_in_new_york_lasts_169_hours():
    week = period_containing("weekly", date(2026, 11, 1))
    assert (week.start, week.end) == (date(2026, 10, 26), date(2026, 11, 1))
    assert week.due_at("America/New_York") == utc(2026, 11, 2, 5)  # 00:00 EST
    assert week.due_at("America/New_York") - week.starts_at("America/New_York") == timedelta(
        hours=169
    )


def test_a_midnight_that_does_not_exist_is_due_at_the_first_minute_after_the_gap():
    """Santiago springs forward at midnight (6 September 2026: 00:00 → 01:00): the day before
    is due at 01:00 local, -03, which is 04:00 UTC."""
    day = period_containing("daily", date(2026, 9, 5))
    assert day.label == "2026-09-05"
    assert day.due_at("America/Santiago") == utc(2026, 9, 6, 4)
    assert day.starts_at("America/Santiago") == utc(2026, 9, 5, 4)  # 00:00 -04


def test_months_including_a_leap_february_and_december():
    feb = period_containing("monthly", date(2028, 2, 10))
    assert (feb.start, feb.end, feb.label) == (date(2028, 2, 1), date(2028, 2, 29), "February 2028")
    dec = period_containing("monthly", date(2026, 12, 31))
    assert (dec.end, dec.next().start, dec.next().label) == (
        date(2026, 12, 31),
        date(2027, 1, 1),
        "January 2027",
    )
    assert dec.due_at("Asia/Tokyo") == utc(2026, 12, 31, 15)


def test_a_year():
    year = period_containing("annually", date(2026, 7, 4))
    assert (year.start, year.end, year.label) == (date(2026, 1, 1), date(2026, 12, 31), "2026")
    assert year.due_at("America/Los_Angeles") == utc(2027, 1, 1, 8)


def test_periods_between_lists_each_period_touching_the_range_once():
    weeks = list(periods_between("weekly", date(2026, 12, 20), date(2027, 1, 5)))
    assert [w.label for w in weeks] == [
        "week 51 2026",
        "week 52 2026",
        "week 53 2026",
        "week 1 2027",
    ]
    quarters = list(periods_between("quarterly", date(2026, 3, 31), date(2026, 4, 1)))
    assert [q.label for q in quarters] == ["Q1 2026", "Q2 2026"]
    assert list(periods_between("monthly", date(2026, 5, 2), date(2026, 5, 30)))[0].label == (
        "May 2026"
    )


def test_an_unknown_frequency_is_refused():
    with pytest.raises(ValueError, match="fortnightly"):
        period_containing("fortnightly", date(2026, 1, 1))
