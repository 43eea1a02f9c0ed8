"""Business-time arithmetic in sla.clock: the worked examples of docs/sla-clock.md."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.clock import (
    BusinessCalendar,
    add_business_days,
    add_open_time,
    deadline,
    is_open,
    next_opening,
    open_intervals,
    open_time_between,
)
from sla.durations import Duration, parse_duration

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def ny(*args):
    return datetime(*args, tzinfo=NY)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def office():
    """Mon-Fri 09:00-18:00 America/New_York, closed on Christmas Day 2026."""
    return BusinessCalendar.from_hours(
        "America/New_York", {"mon-fri": [["09:00", "18:00"]]}, holidays=["2026-12-25"]
    )


# -- open time -----------------------------------------------------------------------------


def test_one_hour_from_friday_evening_is_due_monday_morning(office):
    """1h opened Friday 17:55 local: 5 minutes on Friday, 55 on Monday -> Monday 09:55."""
    due = add_open_time(office, ny(2026, 2, 27, 17, 55), H)
    assert due == ny(2026, 3, 2, 9, 55)
    assert due.tzinfo is UTC


def test_weekend_when_us_dst_begins(office):
    """Fri 2026-03-06 17:55 EST + 1h -> Mon 2026-03-09 09:55 EDT, which is 13:55 UTC."""
    due = add_open_time(office, ny(2026, 3, 6, 17, 55), H)
    assert due == utc(2026, 3, 9, 13, 55)
    assert due.astimezone(NY).hour == 9


def test_weekend_when_us_dst_ends(office):
    """Fri 2026-10-30 17:55 EDT + 1h -> Mon 2026-11-02 09:55 EST, which is 14:55 UTC."""
    due = add_open_time(office, ny(2026, 10, 30, 17, 55), H)
    assert due == utc(2026, 11, 2, 14, 55)
    assert due.astimezone(NY).hour == 9


def test_ticket_opened_at_night_starts_counting_at_the_next_opening(office):
    """Opened Tuesday 23:30, a 2h timer runs 09:00-11:00 on Wednesday."""
    assert add_open_time(office, ny(2026, 3, 3, 23, 30), 2 * H) == ny(2026, 3, 4, 11, 0)
    assert add_open_time(office, ny(2026, 3, 4, 3, 0), 2 * H) == ny(2026, 3, 4, 11, 0)


def test_ticket_opened_on_a_holiday_starts_counting_at_the_next_opening(office):
    """Christmas 2026 is a Friday: opened that day at 10:00, 1h is due Monday 28th 10:00."""
    assert not is_open(office, ny(2026, 12, 25, 10, 0))
    assert next_opening(office, ny(2026, 12, 25, 10, 0)) == ny(2026, 12, 28, 9, 0)
    assert add_open_time(office, ny(2026, 12, 25, 10, 0), H) == ny(2026, 12, 28, 10, 0)


def test_holiday_is_skipped_in_the_middle_of_a_timer(office):
    """Thu 24 Dec 2026 17:00 + 4h: 1h on Thursday, Christmas Friday skipped, 3h on Monday."""
    assert add_open_time(office, ny(2026, 12, 24, 17, 0), 4 * H) == ny(2026, 12, 28, 12, 0)


def test_deadline_on_a_closing_time_stays_there(office):
    """Fri 17:00 + 1h on 09:00-18:00 is Friday 18:00, not Monday 09:00."""
    due = add_open_time(office, ny(2026, 3, 6, 17, 0), H)
    assert due == ny(2026, 3, 6, 18, 0)
    assert not is_open(office, due)
    assert is_open(office, due - timedelta(microseconds=1))


def test_zero_duration_leaves_the_moment_where_it_is(office):
    """Adding no open time is the identity, open or closed: a deadline on Friday's closing time
    pushed by a pause that used no open time stays on Friday 18:00."""
    assert add_open_time(office, ny(2026, 3, 4, 11, 0), timedelta(0)) == ny(2026, 3, 4, 11, 0)
    assert add_open_time(office, ny(2026, 3, 6, 18, 0), timedelta(0)) == ny(2026, 3, 6, 18, 0)
    assert add_open_time(office, ny(2026, 3, 6, 19, 0), timedelta(0)) == ny(2026, 3, 6, 19, 0)


def test_two_days_is_48_hours_of_open_time(office):
    """`2d` on a 9-hour business day is five working days and 3 hours: Mon 09:00 -> Mon 12:00."""
    due = deadline(office, ny(2026, 3, 2, 9, 0), parse_duration("2d"))
    assert due == ny(2026, 3, 9, 12, 0)
    assert open_time_between(office, ny(2026, 3, 2, 9, 0), due) == timedelta(hours=48)


def test_lunch_break_is_not_counted():
    """Tue 09:00-12:00 + 13:00-18:00: 11:30 + 1h is 13:30; the hour at lunch is closed."""
    cal = BusinessCalendar.from_hours("Europe/Berlin", {"tue": ["09:00-12:00", "13:00-18:00"]})
    start = datetime(2026, 3, 3, 11, 30, tzinfo=BERLIN)
    assert add_open_time(cal, start, H) == datetime(2026, 3, 3, 13, 30, tzinfo=BERLIN)
    assert not is_open(cal, datetime(2026, 3, 3, 12, 30, tzinfo=BERLIN))
    assert open_time_between(cal, start, start + 3 * H) == 2 * H


def test_calendar_open_on_saturday_only():
    """Sat 10:00-14:00 UTC: 6h from a Wednesday is 4h this Saturday and 2h the next."""
    cal = BusinessCalendar.from_hours("UTC", {"sat": [["10:00", "14:00"]]})
    assert add_open_time(cal, utc(2026, 3, 4, 12, 0), 6 * H) == utc(2026, 3, 14, 12, 0)


def test_midnight_spanning_shift_counts_continuously():
    """Mon 22:00-24:00 plus Tue 00:00-02:00 is one 4-hour shift: Mon 23:00 + 2h is Tue 01:00."""
    cal = BusinessCalendar.from_hours(
        "Europe/Berlin", {"mon": [["22:00", "24:00"]], "tue": [["00:00", "02:00"]]}
    )
    monday = datetime(2026, 3, 2, 23, 0, tzinfo=BERLIN)
    assert add_open_time(cal, monday, 2 * H) == datetime(2026, 3, 3, 1, 0, tzinfo=BERLIN)
    assert is_open(cal, datetime(2026, 3, 3, 0, 0, tzinfo=BERLIN))
    # 3h uses the shift up exactly (due at its close, Tue 02:00); 4h leaves 1h for next Monday.
    assert add_open_time(cal, monday, 3 * H) == datetime(2026, 3, 3, 2, 0, tzinfo=BERLIN)
    assert add_open_time(cal, monday, 4 * H) == datetime(2026, 3, 9, 23, 0, tzinfo=BERLIN)


def test_always_open_counts_plain_elapsed_time():
    """On 24/7, 4h is 4h of real time, at any hour and on any day."""
    cal = BusinessCalendar.always_open()
    start = utc(2026, 12, 25, 22, 30)
    assert add_open_time(cal, start, 4 * H) == start + 4 * H
    assert open_time_between(cal, start, start + timedelta(days=9)) == timedelta(days=9)
    assert next_opening(cal, start) == start


def test_24_7_in_a_dst_zone_counts_real_time_across_the_change():
    """00:00-24:00 every day in New York: 22:00 EST on 7 Mar + 4h is 03:00 EDT (4 real hours)."""
    cal = BusinessCalendar.from_hours("America/New_York", {"mon-sun": ["00:00-24:00"]})
    start = ny(2026, 3, 7, 22, 0)
    due = add_open_time(cal, start, 4 * H)
    assert due - start == 4 * H
    assert due == ny(2026, 3, 8, 3, 0)
    # Same on the slow path: a holiday far away makes the calendar not "always open".
    walked = BusinessCalendar.from_hours(
        "America/New_York", {"mon-sun": ["00:00-24:00"]}, holidays=["2030-01-01"]
    )
    assert add_open_time(walked, start, 4 * H) == due


def test_spring_forward_day_holds_23_hours_and_fall_back_day_25():
    """Open time is real time: local 00:00-24:00 is 23h on 8 Mar 2026 and 25h on 1 Nov 2026."""
    cal = BusinessCalendar.from_hours("America/New_York", {"sun": ["00:00-24:00"]})
    assert open_time_between(cal, ny(2026, 3, 8), ny(2026, 3, 9)) == timedelta(hours=23)
    assert open_time_between(cal, ny(2026, 11, 1), ny(2026, 11, 2)) == timedelta(hours=25)


def test_interval_starting_in_the_spring_forward_gap_starts_at_the_end_of_the_gap():
    """Sun 02:30-05:00 New York: on 8 Mar 2026 02:30 does not exist, so it opens 03:00 EDT."""
    cal = BusinessCalendar.from_hours("America/New_York", {"sun": [["02:30", "05:00"]]})
    assert next_opening(cal, ny(2026, 3, 7, 12, 0)) == utc(2026, 3, 8, 7, 0)
    assert next_opening(cal, ny(2026, 3, 7, 12, 0)) == ny(2026, 3, 8, 3, 0)
    assert open_time_between(cal, ny(2026, 3, 8), ny(2026, 3, 9)) == 2 * H
    # A week later it opens at 02:30 EDT and holds its usual 2.5h.
    assert next_opening(cal, ny(2026, 3, 9)) == utc(2026, 3, 15, 6, 30)


def test_ambiguous_fall_back_time_means_its_first_occurrence():
    """Sun 01:30-03:00 New York on 1 Nov 2026: opens 01:30 EDT (05:30 UTC), holds 2.5h."""
    cal = BusinessCalendar.from_hours("America/New_York", {"sun": [["01:30", "03:00"]]})
    assert next_opening(cal, ny(2026, 10, 31)) == utc(2026, 11, 1, 5, 30)
    assert open_time_between(cal, ny(2026, 11, 1), ny(2026, 11, 2)) == timedelta(hours=2.5)


def test_results_are_utc_and_inputs_may_be_in_any_zone(office):
    """The same instant given in Berlin time gives the same deadline, in UTC."""
    start = ny(2026, 3, 4, 11, 0)
    due = add_open_time(office, start.astimezone(BERLIN), H)
    assert due == ny(2026, 3, 4, 12, 0)
    assert due.tzinfo is UTC


def test_naive_datetimes_are_refused(office):
    """Naive datetimes are a bug at the call site, never silently taken as UTC."""
    with pytest.raises(ValueError, match="aware"):
        add_open_time(office, datetime(2026, 3, 4, 11, 0), H)


def test_negative_durations_are_refused(office):
    """Time does not run backwards on a timer."""
    with pytest.raises(ValueError, match="negative"):
        add_open_time(office, ny(2026, 3, 4, 11, 0), -H)
    with pytest.raises(ValueError, match="negative"):
        add_business_days(office, ny(2026, 3, 4, 11, 0), -1)


def test_calendar_that_is_never_open_raises_instead_of_looping():
    """No weekly hours, or holidays on every open day for years: a ValueError, not a hang."""
    empty = BusinessCalendar.from_hours("UTC", {})
    with pytest.raises(ValueError, match="never open"):
        add_open_time(empty, utc(2026, 1, 1), H)
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 5)]
    blocked = BusinessCalendar.from_hours("UTC", {"mon": ["09:00-10:00"]}, holidays=mondays)
    with pytest.raises(ValueError, match="never open"):
        next_opening(blocked, utc(2026, 1, 1))
    with pytest.raises(ValueError, match="never open"):
        add_business_days(blocked, utc(2026, 1, 1), 1)


def test_open_time_between_is_zero_for_an_empty_or_reversed_range(office):
    """[start, end) with end <= start holds no open time."""
    start = ny(2026, 3, 4, 11, 0)
    assert open_time_between(office, start, start) == timedelta(0)
    assert open_time_between(office, start, start - H) == timedelta(0)


def test_open_intervals_are_clipped_to_the_range(office):
    """Wed 12:00 to Fri 10:00: the rest of Wednesday, all of Thursday, Friday's first hour."""
    spans = list(open_intervals(office, ny(2026, 3, 4, 12, 0), ny(2026, 3, 6, 10, 0)))
    assert spans == [
        (ny(2026, 3, 4, 12, 0), ny(2026, 3, 4, 18, 0)),
        (ny(2026, 3, 5, 9, 0), ny(2026, 3, 5, 18, 0)),
        (ny(2026, 3, 6, 9, 0), ny(2026, 3, 6, 10, 0)),
    ]


def test_is_open_at_opening_but_not_at_closing(office):
    """Intervals are half-open: 09:00 is open, 18:00 is closed."""
    assert is_open(office, ny(2026, 3, 4, 9, 0))
    assert not is_open(office, ny(2026, 3, 4, 9, 0) - timedelta(microseconds=1))
    assert not is_open(office, ny(2026, 3, 4, 18, 0))


# -- business days -------------------------------------------------------------------------


def test_two_business_days_from_tuesday_morning_is_thursday_morning(office):
    """2bd from Tue 10:00 is Thu 10:00, the same local time two open days later."""
    assert add_business_days(office, ny(2026, 3, 3, 10, 0), 2) == ny(2026, 3, 5, 10, 0)


def test_two_business_days_from_friday_night_is_wednesday_opening(office):
    """2bd from Fri 20:00 counts from Mon 09:00 (next opening): two open days on, Wed 09:00."""
    assert add_business_days(office, ny(2026, 3, 6, 20, 0), 2) == ny(2026, 3, 11, 9, 0)


def test_business_days_skip_weekends_and_holidays(office):
    """2bd from Thu 24 Dec 2026 15:00: Christmas and the weekend skipped -> Tue 29th 15:00."""
    assert add_business_days(office, ny(2026, 12, 24, 15, 0), 2) == ny(2026, 12, 29, 15, 0)


def test_business_days_keep_local_time_across_dst(office):
    """1bd from Fri 6 Mar 2026 10:00 EST is Mon 9 Mar 10:00 EDT: 71 real hours, not 72."""
    due = add_business_days(office, ny(2026, 3, 6, 10, 0), 1)
    assert due == ny(2026, 3, 9, 10, 0)
    assert due - ny(2026, 3, 6, 10, 0) == timedelta(hours=71)


def test_business_day_result_outside_that_days_hours_moves_to_its_next_opening():
    """Mon 09:00-18:00, Tue 09:00-12:00: 1bd from Mon 15:00 lands Tue 15:00 -> Wed 09:00."""
    cal = BusinessCalendar.from_hours(
        "UTC", {"mon": ["09:00-18:00"], "tue": ["09:00-12:00"], "wed": ["09:00-18:00"]}
    )
    assert add_business_days(cal, utc(2026, 3, 2, 15, 0), 1) == utc(2026, 3, 4, 9, 0)


def test_business_day_result_in_a_lunch_break_moves_to_the_afternoon():
    """Tue 09:00-12:00 + 13:00-18:00 and the same Wed: 1bd from Tue 13:00 lands in Wed's 13:00."""
    cal = BusinessCalendar.from_hours(
        "UTC", {"tue-wed": ["09:00-12:00", "13:00-18:00"], "thu": ["09:00-18:00"]}
    )
    assert add_business_days(cal, utc(2026, 3, 3, 13, 0), 1) == utc(2026, 3, 4, 13, 0)
    # Opened at Tuesday lunch: counts from 13:00, so Wednesday 13:00.
    assert add_business_days(cal, utc(2026, 3, 3, 12, 15), 1) == utc(2026, 3, 4, 13, 0)


def test_business_days_on_a_saturday_only_calendar():
    """On a Saturday-only calendar, 2bd from Sat 11:00 is Sat 11:00 two weeks later."""
    cal = BusinessCalendar.from_hours("UTC", {"sat": [["10:00", "14:00"]]})
    assert add_business_days(cal, utc(2026, 3, 7, 11, 0), 2) == utc(2026, 3, 21, 11, 0)


def test_deadline_dispatches_on_the_duration_unit(office):
    """`2bd` counts business days, `4h` open time; a Duration with both is refused."""
    start = ny(2026, 3, 3, 10, 0)
    assert deadline(office, start, parse_duration("2bd")) == ny(2026, 3, 5, 10, 0)
    assert deadline(office, start, parse_duration("4h")) == ny(2026, 3, 3, 14, 0)
    with pytest.raises(ValueError, match="not both"):
        deadline(office, start, Duration(minutes=60, business_days=1))


# -- calendars -----------------------------------------------------------------------------


def test_from_hours_reads_plan_like_data():
    """Weekday keys and ranges, pairs or "HH:MM-HH:MM", "24:00", ISO holidays; touching merged."""
    cal = BusinessCalendar.from_hours(
        "Europe/Berlin",
        {"mon-fri": [["09:00", "12:00"], ["12:00", "18:00"]], "sat": "20:00-24:00"},
        holidays=["2026-12-25", date(2026, 12, 26)],
    )
    assert cal.tz == BERLIN
    assert cal.weekly == (((540, 1080),),) * 5 + (((1200, 1440),), ())
    assert cal.holidays == {date(2026, 12, 25), date(2026, 12, 26)}


@pytest.mark.parametrize(
    ("timezone", "hours", "holidays"),
    [
        ("Mars/Olympus", {"mon": ["09:00-18:00"]}, ()),
        ("UTC", {"monday": ["09:00-18:00"]}, ()),
        ("UTC", {"fri-mon": ["09:00-18:00"]}, ()),
        ("UTC", {"mon": ["18:00-09:00"]}, ()),
        ("UTC", {"mon": ["09:00-24:30"]}, ()),
        ("UTC", {"mon": ["9-18"]}, ()),
        ("UTC", {"mon": [["09:00"]]}, ()),
        ("UTC", {"mon": ["09:00-13:00", "12:00-18:00"]}, ()),
        ("UTC", {"mon": ["09:00-18:00"]}, ["25/12/2026"]),
    ],
)
def test_from_hours_refuses_bad_input(timezone, hours, holidays):
    """Unknown zones, weekdays, times, reversed or overlapping intervals, bad dates."""
    with pytest.raises(ValueError):
        BusinessCalendar.from_hours(timezone, hours, holidays)


def test_calendar_is_hashable_and_compares_by_value():
    """Calendars are frozen values: equal when built from the same data."""
    a = BusinessCalendar.from_hours("UTC", {"mon-fri": ["09:00-18:00"]})
    b = BusinessCalendar.from_hours("UTC", {"mon-fri": [["09:00", "18:00"]]})
    assert a == b
    assert hash(a) == hash(b)
