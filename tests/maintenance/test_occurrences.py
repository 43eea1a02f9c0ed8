"""Occurrence expansion: wall-clock windows across DST, nth/last weekdays, midnight, one-offs."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from maintenance.occurrences import _rule, expand, rule_anchor, shifted_anchor
from maintenance.selectors import occurrences_for_services, window_occurrences
from tests import factories
from tests.maintenance.conftest import make_window


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def slots(rrule, start, minutes, tz, begin, end, on_date=None):
    return [
        (s.starts_at, s.ends_at)
        for s in expand(
            rrule=rrule,
            on_date=on_date,
            start=start,
            minutes=minutes,
            tz_name=tz,
            anchor=date(2025, 1, 1),
            range_start=begin,
            range_end=end,
        )
    ]


def test_weekly_sunday_utc():
    """FREQ=WEEKLY;BYDAY=SU at 02:00 UTC for 2h: every Sunday 02:00–04:00 UTC."""
    found = slots("FREQ=WEEKLY;BYDAY=SU", time(2), 120, "UTC", utc(2027, 1, 1), utc(2027, 1, 25))
    assert found == [(utc(2027, 1, d, 2), utc(2027, 1, d, 4)) for d in (3, 10, 17, 24)]


def test_new_york_0200_keeps_local_time_across_dst_both_ways():
    """02:00–06:00 America/New_York is 07:00 UTC in winter, 06:00 UTC in summer."""
    winter = slots(
        "FREQ=WEEKLY;BYDAY=SU", time(2), 240, "America/New_York", utc(2026, 2, 28), utc(2026, 3, 2)
    )
    summer = slots(
        "FREQ=WEEKLY;BYDAY=SU", time(2), 240, "America/New_York", utc(2026, 3, 14), utc(2026, 3, 16)
    )
    after_fall_back = slots(
        "FREQ=WEEKLY;BYDAY=SU", time(2), 240, "America/New_York", utc(2026, 11, 7), utc(2026, 11, 9)
    )
    assert winter == [(utc(2026, 3, 1, 7), utc(2026, 3, 1, 11))]
    assert summer == [(utc(2026, 3, 15, 6), utc(2026, 3, 15, 10))]
    assert after_fall_back == [(utc(2026, 11, 8, 7), utc(2026, 11, 8, 11))]


def test_spring_forward_gap_starts_at_first_valid_minute_and_ends_at_local_end():
    """On 2026-03-08 02:00 New York does not exist: the window runs 03:00–06:00 EDT."""
    found = slots(
        "FREQ=WEEKLY;BYDAY=SU",
        time(2, 30),
        210,
        "America/New_York",
        utc(2026, 3, 8),
        utc(2026, 3, 9),
    )
    # 03:00 EDT = 07:00 UTC (not 03:30, as a naive offset shift would give); end 06:00 EDT.
    assert found == [(utc(2026, 3, 8, 7), utc(2026, 3, 8, 10))]


def test_fall_back_ambiguous_time_is_its_first_occurrence():
    """01:30 on 2026-11-01 happens twice in New York: the window starts at the first (EDT)."""
    found = slots(
        "FREQ=WEEKLY;BYDAY=SU",
        time(1, 30),
        120,
        "America/New_York",
        utc(2026, 11, 1),
        utc(2026, 11, 2),
    )
    # 01:30 EDT = 05:30 UTC; ends 03:30 local (EST) = 08:30 UTC: three real hours that night.
    assert found == [(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8, 30))]


@pytest.mark.parametrize(
    ("rule", "days"),
    [
        ("FREQ=MONTHLY;BYDAY=+1MO", [date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 5)]),
        ("FREQ=MONTHLY;BYDAY=+3MO", [date(2027, 2, 15), date(2027, 3, 15), date(2027, 4, 19)]),
        ("FREQ=MONTHLY;BYDAY=-1MO", [date(2027, 2, 22), date(2027, 3, 29), date(2027, 4, 26)]),
    ],
)
def test_first_third_and_last_monday(rule, days):
    """The Roofing seed's windows: first, third and last Monday, 02:00 New York."""
    found = slots(rule, time(2), 240, "America/New_York", utc(2027, 2, 1), utc(2027, 5, 1))
    local = [s.astimezone(ZoneInfo("America/New_York")) for s, _ in found]
    assert [d.date() for d in local] == days
    assert {d.time() for d in local} == {time(2)}


def test_window_across_midnight():
    """23:00 Berlin for 4h ends at 03:00 the next day, local, and overlaps both days."""
    found = slots(
        "FREQ=WEEKLY;BYDAY=SA",
        time(23),
        240,
        "Europe/Berlin",
        utc(2027, 1, 10, 0, 30),
        utc(2027, 1, 10, 1),
    )
    # Saturday 9 Jan 23:00 CET = 22:00 UTC, ends Sunday 03:00 CET = 02:00 UTC: still running.
    assert found == [(utc(2027, 1, 9, 22), utc(2027, 1, 10, 2))]


def test_one_off_window():
    """A `date:` window happens once."""
    found = slots(
        "", time(2), 60, "UTC", utc(2027, 1, 1), utc(2028, 1, 1), on_date=date(2027, 6, 1)
    )
    assert found == [(utc(2027, 6, 1, 2), utc(2027, 6, 1, 3))]
    assert (
        slots("", time(2), 60, "UTC", utc(2027, 7, 1), utc(2028, 1, 1), on_date=date(2027, 6, 1))
        == []
    )


def test_shifting_the_rule_start_changes_nothing():
    """A rule anchored years ago expands the same as from its shifted anchor (speed only)."""
    for rule in ("FREQ=WEEKLY;INTERVAL=2;BYDAY=SU", "FREQ=MONTHLY;BYDAY=-1MO", "FREQ=DAILY"):
        anchor = date(2019, 1, 1)
        shifted = shifted_anchor(rule, anchor, date(2027, 3, 3))
        assert shifted > date(2026, 1, 1)
        kwargs = dict(rrule=rule, on_date=None, start=time(2), minutes=60, tz_name="UTC")
        span = dict(range_start=utc(2027, 3, 5), range_end=utc(2027, 6, 1))
        full = _rule(rule, rule_anchor(anchor, time(2))).between(
            datetime(2027, 3, 5), datetime(2027, 6, 1), inc=True
        )
        assert [s.local_start for s in expand(**kwargs, anchor=anchor, **span)] == full


def test_window_occurrences_contract(db, service):
    """window_occurrences gives aware UTC starts/ends, the window and `cancelled`."""
    window = make_window(service)
    found = window_occurrences(service=service.slug, start=utc(2027, 1, 1), end=utc(2027, 1, 15))
    assert [(o.starts_at, o.ends_at, o.window, o.cancelled) for o in found] == [
        (utc(2027, 1, 3, 2), utc(2027, 1, 3, 4), window, False),
        (utc(2027, 1, 10, 2), utc(2027, 1, 10, 4), window, False),
    ]
    assert all(o.starts_at.tzinfo is not None for o in found)


def test_a_year_of_weekly_windows_for_100_services_takes_two_queries(
    db, django_assert_max_num_queries
):
    """100 services' weekly windows over a year: 2 queries (time: bench/notices.py)."""
    services = [factories.ServiceFactory() for _ in range(100)]
    for service in services:
        make_window(service)
    with django_assert_max_num_queries(2):
        found = occurrences_for_services(start=utc(2027, 1, 1), end=utc(2028, 1, 1))
    assert len(found) == 100 * 52
    assert timedelta(0) < found[-1].ends_at - found[-1].starts_at
