"""One rule maps a wall-clock time to an instant, for every app: a time the clock skips is the
end of the gap (the transition), a time it shows twice is its first occurrence. Hand-checked
instants in America/New_York and Europe/Berlin, then the rule as a property over many zones."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.zones import local_date, local_midnight, to_utc, zone

NY, BERLIN = zone("America/New_York"), zone("Europe/Berlin")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "tz", "instant"),
    [
        # New York springs forward on 8 March 2026 at 02:00 EST → 03:00 EDT (07:00 UTC).
        (datetime(2026, 3, 8, 1, 59), NY, utc(2026, 3, 8, 6, 59)),
        (datetime(2026, 3, 8, 2, 0), NY, utc(2026, 3, 8, 7)),
        (datetime(2026, 3, 8, 2, 30), NY, utc(2026, 3, 8, 7)),
        (datetime(2026, 3, 8, 2, 59, 59, 999999), NY, utc(2026, 3, 8, 7)),
        (datetime(2026, 3, 8, 3, 0), NY, utc(2026, 3, 8, 7)),
        (datetime(2026, 3, 8, 3, 1), NY, utc(2026, 3, 8, 7, 1)),
        # It falls back on 1 November 2026 at 02:00 EDT → 01:00 EST: 01:xx happens twice.
        (datetime(2026, 11, 1, 0, 59), NY, utc(2026, 11, 1, 4, 59)),
        (datetime(2026, 11, 1, 1, 0), NY, utc(2026, 11, 1, 5)),  # EDT, the first time
        (datetime(2026, 11, 1, 1, 30), NY, utc(2026, 11, 1, 5, 30)),
        (datetime(2026, 11, 1, 2, 0), NY, utc(2026, 11, 1, 7)),  # EST
        # Berlin springs forward on 29 March 2026 at 02:00 CET → 03:00 CEST (01:00 UTC) …
        (datetime(2026, 3, 29, 2, 0), BERLIN, utc(2026, 3, 29, 1)),
        (datetime(2026, 3, 29, 2, 45), BERLIN, utc(2026, 3, 29, 1)),
        (datetime(2026, 3, 29, 3, 15), BERLIN, utc(2026, 3, 29, 1, 15)),
        # … and falls back on 25 October 2026 at 03:00 CEST → 02:00 CET: 02:xx twice.
        (datetime(2026, 10, 25, 2, 30), BERLIN, utc(2026, 10, 25, 0, 30)),  # CEST
        (datetime(2026, 10, 25, 3, 0), BERLIN, utc(2026, 10, 25, 2)),  # CET
    ],
)
def test_gaps_end_at_the_transition_and_folds_take_the_first_occurrence(local, tz, instant):
    assert to_utc(local, tz) == instant
    assert to_utc(local, tz.key) == instant  # a zone name works as well


def test_a_gap_that_swallows_midnight_begins_the_day_at_its_end():
    """Santiago springs forward at midnight on 6 September 2026: that day begins at 01:00 -03."""
    assert local_midnight(date(2026, 9, 6), "America/Santiago") == utc(2026, 9, 6, 4)
    # A day-long gap: Samoa skipped 30 December 2011 entirely.
    assert local_midnight(date(2011, 12, 30), "Pacific/Apia") == local_midnight(
        date(2011, 12, 31), "Pacific/Apia"
    )


def test_local_midnights_and_dates_across_the_changes():
    assert local_midnight(date(2026, 3, 8), "America/New_York") == utc(2026, 3, 8, 5)
    assert local_midnight(date(2026, 3, 9), "America/New_York") == utc(2026, 3, 9, 4)
    assert local_midnight(date(2026, 10, 25), "Europe/Berlin") == utc(2026, 10, 24, 22)
    assert local_midnight(date(2026, 10, 26), "Europe/Berlin") == utc(2026, 10, 25, 23)
    assert local_date(utc(2026, 2, 1, 4, 30), "America/New_York") == date(2026, 1, 31)
    assert local_date(utc(2026, 2, 1, 4, 30), NY) == date(2026, 1, 31)


ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "America/Santiago",
    "Australia/Lord_Howe",  # a 30-minute change
    "Asia/Kolkata",
    "Pacific/Apia",
    "UTC",
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 12, 31)),
    st.sampled_from([0, 1]),
)
def test_the_instant_is_the_earliest_whose_wall_clock_is_not_before_the_time_asked(
    name, naive, crowd
):
    """The whole rule in one property: ``to_utc(t)`` is the first instant at which the wall
    clock reads ``t`` or later. ``crowd`` moves half the examples onto the zone's next
    transition, where gaps and folds are."""
    tz = zone(name)
    if crowd:
        naive = _near_transition(tz, naive)
    instant = to_utc(naive, tz)
    assert instant.tzinfo is UTC
    wall = instant.astimezone(tz).replace(tzinfo=None)
    assert wall >= naive
    assert (instant - timedelta(microseconds=1)).astimezone(tz).replace(tzinfo=None) < naive
    if wall != naive:  # only in a gap: the instant is the transition itself
        before = (instant - timedelta(seconds=1)).astimezone(tz)
        assert before.utcoffset() != instant.astimezone(tz).utcoffset()


def _near_transition(tz, naive):
    """A wall-clock time a few minutes either side of the zone's next offset change after
    ``naive``, or ``naive`` itself if the zone has none within a year."""
    start = naive.replace(tzinfo=UTC)
    offset = start.astimezone(tz).utcoffset()
    step = timedelta(days=7)
    for weeks in range(53):
        probe = start + weeks * step
        if probe.astimezone(tz).utcoffset() != offset:
            lo, hi = probe - step, probe
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            shift = timedelta(minutes=(naive.minute % 91) - 45)
            local = hi.astimezone(tz).replace(tzinfo=None)
            return local + shift
    return naive
