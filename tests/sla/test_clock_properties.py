"""Properties of sla.clock that hold for any calendar, zone and start (hypothesis).

Calendars are drawn with random weekly hours (several intervals a day, 24:00 ends, intervals
that start or end inside a DST gap), random holidays, in zones with DST of an hour, of half an
hour (Lord Howe), and none; starts are spread over 2025-2028 and crowd around DST transitions.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sla.clock import (
    BusinessCalendar,
    add_business_days,
    add_open_time,
    is_open,
    next_opening,
    open_intervals,
    open_time_between,
)

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)

fast = settings(max_examples=200, deadline=None)


def _transitions(zone):
    """The UTC instants in 2025-2028 at which ``zone`` changes its offset."""
    tz = ZoneInfo(zone)
    found = []
    moment = FIRST
    while moment < LAST:
        later = moment + timedelta(days=1)
        if moment.astimezone(tz).utcoffset() != later.astimezone(tz).utcoffset():
            lo, hi = moment, later
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(second=0, microsecond=0))
        moment = later
    return found


TRANSITIONS = sorted({t for zone in ZONES for t in _transitions(zone)})


@st.composite
def day_hours(draw):
    """One weekday's intervals: sorted, non-overlapping, on a 15-minute or a 1-minute grid."""
    grid = draw(st.sampled_from([15, 15, 1]))
    bounds = draw(st.lists(st.integers(0, 1440 // grid), unique=True, max_size=6))
    bounds = sorted(b * grid for b in bounds)
    return tuple(zip(bounds[::2], bounds[1::2], strict=False))


@st.composite
def random_calendars(draw):
    weekly = tuple(draw(day_hours()) for _ in range(7))
    assume(any(weekly))
    holidays = draw(
        st.frozensets(st.dates(date(2025, 1, 1), date(2029, 12, 31)), max_size=15)
        | st.frozensets(st.dates(date(2025, 1, 1), date(2029, 12, 31)), max_size=400)
    )
    return BusinessCalendar(
        tz=ZoneInfo(draw(st.sampled_from(ZONES))), weekly=weekly, holidays=holidays
    )


def _office(zone):
    return BusinessCalendar.from_hours(zone, {"mon-fri": ["09:00-18:00"]}, ["2026-12-25"])


calendars = st.one_of(
    random_calendars(),
    random_calendars(),
    st.just(BusinessCalendar.always_open()),
    st.sampled_from(ZONES).map(_office),
    st.sampled_from(ZONES).map(
        lambda zone: BusinessCalendar.from_hours(zone, {"mon-sun": ["00:00-24:00"]}, ["2026-12-25"])
    ),
    st.sampled_from(ZONES).map(
        lambda zone: BusinessCalendar.from_hours(
            zone, {"mon-fri": ["22:00-24:00"], "tue-sat": ["00:00-02:00"]}
        )
    ),
)

starts = st.one_of(
    st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda t, minutes, micros: t + timedelta(minutes=minutes, microseconds=micros),
        st.sampled_from(TRANSITIONS),
        st.integers(-36 * 60, 36 * 60),
        st.sampled_from([0, 0, 0, 1, 999_999]),
    ),
)

durations = st.one_of(
    st.integers(0, 21 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    st.timedeltas(timedelta(0), timedelta(days=5)),
    st.just(timedelta(0)),
)


@fast
@given(calendars, starts, durations, durations)
def test_adding_d1_then_d2_equals_adding_d1_plus_d2(cal, start, d1, d2):
    """add_open_time(add_open_time(s, d1), d2) == add_open_time(s, d1 + d2)."""
    assert add_open_time(cal, add_open_time(cal, start, d1), d2) == add_open_time(
        cal, start, d1 + d2
    )


@fast
@given(calendars, starts, durations)
def test_open_time_up_to_the_deadline_equals_the_duration(cal, start, duration):
    """open_time_between(s, add_open_time(s, d)) == d, to the microsecond."""
    due = add_open_time(cal, start, duration)
    assert open_time_between(cal, start, due) == duration


@fast
@given(calendars, starts, durations)
def test_deadline_is_inside_open_hours_or_at_a_closing_time(cal, start, duration):
    """With d > 0 the last microsecond before the deadline is open; the result is UTC."""
    assume(duration > timedelta(0))
    due = add_open_time(cal, start, duration)
    assert is_open(cal, due - TICK)
    assert due > start
    assert due.tzinfo is UTC


@fast
@given(calendars, starts, durations, durations)
def test_deadline_is_monotonic_in_the_duration(cal, start, d1, d2):
    """A longer duration is never due earlier (and a strictly longer one strictly later)."""
    small, large = sorted([d1, d2])
    due_small, due_large = add_open_time(cal, start, small), add_open_time(cal, start, large)
    assert due_small <= due_large
    if small < large:
        assert due_small < due_large


@fast
@given(calendars, starts, st.integers(0, 15))
def test_business_days_land_in_open_hours(cal, start, days):
    """add_business_days is open (at or after an opening), never before the start."""
    due = add_business_days(cal, start, days)
    assert is_open(cal, due)
    assert due >= start
    if days:
        assert due.astimezone(cal.tz).date() > next_opening(cal, start).astimezone(cal.tz).date()


@fast
@given(calendars, starts)
def test_next_opening_is_open_and_nothing_before_it_is(cal, start):
    """next_opening(s) is open, and [s, next_opening(s)) holds no open time."""
    opening = next_opening(cal, start)
    assert opening >= start
    assert is_open(cal, opening)
    assert open_time_between(cal, start, opening) == timedelta(0)
    assert (opening == start) == is_open(cal, start)


@fast
@given(calendars, starts, durations, durations)
def test_open_time_is_additive_over_adjacent_ranges(cal, start, d1, d2):
    """between(a, b) + between(b, c) == between(a, c), and never more than c - a."""
    middle, end = start + d1, start + d1 + d2
    whole = open_time_between(cal, start, end)
    assert open_time_between(cal, start, middle) + open_time_between(cal, middle, end) == whole
    assert whole <= end - start


@fast
@given(calendars, starts, st.integers(0, 7 * 24 * 60))
def test_open_intervals_are_ordered_disjoint_and_clipped(cal, start, minutes):
    """Spans come sorted, non-empty, non-overlapping and inside [start, end)."""
    end = start + timedelta(minutes=minutes)
    previous_end = start
    for a, b in open_intervals(cal, start, end):
        assert previous_end <= a < b <= end
        previous_end = b


@fast
@given(calendars, starts)
def test_is_open_agrees_with_the_local_wall_clock(cal, moment):
    """Away from a fall-back hour, open means: not a holiday and local time in an interval."""
    local = moment.astimezone(cal.tz)
    assume(local.replace(fold=0).utcoffset() == local.replace(fold=1).utcoffset())
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    expected = local.date() not in cal.holidays and any(
        s <= minute < e for s, e in cal.weekly[local.weekday()]
    )
    assert is_open(cal, moment) == expected


@fast
@given(calendars, starts, st.sampled_from(ZONES))
def test_the_zone_of_the_input_does_not_matter(cal, start, zone):
    """The same instant expressed in another zone gives the same result."""
    shifted = start.astimezone(ZoneInfo(zone))
    assert add_open_time(cal, shifted, timedelta(hours=5)) == add_open_time(
        cal, start, timedelta(hours=5)
    )
    assert add_business_days(cal, shifted, 2) == add_business_days(cal, start, 2)
