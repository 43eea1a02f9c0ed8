"""The availability formula on hand-checked numbers (pure: no database, no clock).

November 2026 has 30 days = 43,200 minutes, October 31 days = 44,640 minutes (UTC).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core import periods
from core.periods import next_month, parse_month, previous_month
from uptime.availability import clip, measure, merge, overlapping, subtract

NOVEMBER = periods.containing(periods.MONTH, date(2026, 11, 1), "UTC")
OCTOBER = periods.containing(periods.MONTH, date(2026, 10, 1), "UTC")
AFTER = datetime(2027, 1, 1, tzinfo=UTC)  # "now": both months are over


def at(day, hour, minute=0, month=11):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def minutes(n):
    return timedelta(minutes=n)


def of(period, *, outages=(), maintenance=(), now=AFTER):
    return measure(
        start=period.start, end=period.end, outages=outages, maintenance=maintenance, now=now
    )


def test_interval_helpers():
    """Merge joins overlapping and touching spans; subtract cuts holes; clip trims to a range."""
    a, b, c, d = at(1, 10), at(1, 11), at(1, 12), at(1, 13)
    assert merge([(c, d), (a, b), (b, c), (d, d)]) == [(a, d)]
    assert subtract([(a, d)], [(b, c)]) == [(a, b), (c, d)]
    assert subtract([(a, b)], [(a, d)]) == []
    assert subtract([(a, c)], [(b, d)]) == [(a, b)]
    assert clip([(a, d)], b, c) == [(b, c)]


def test_overlapping_finds_the_spans_of_a_range_by_bisection():
    spans = [(at(1, h), at(1, h, 30)) for h in range(10)]  # 00:00–00:30, 01:00–01:30, …
    assert overlapping(spans, at(1, 2, 15), at(1, 4)) == spans[2:4]
    assert overlapping(spans, at(1, 2, 30), at(1, 3)) == []  # the ends are exclusive
    assert overlapping(spans, at(1, 9, 29), at(2, 0)) == spans[9:]
    assert overlapping([], at(1, 0), at(2, 0)) == []


def test_a_month_with_no_incidents_is_100_percent():
    figure = of(NOVEMBER)
    assert figure.percent == 100
    assert figure.downtime == timedelta(0)
    assert figure.period == minutes(43_200)


def test_an_incident_across_a_month_boundary_is_split_between_the_months():
    """31 Oct 23:00 → 1 Nov 01:00 UTC: 60 minutes in each month, each month's own length."""
    outage = [(at(31, 23, month=10), at(1, 1))]
    october, november = of(OCTOBER, outages=outage), of(NOVEMBER, outages=outage)
    assert october.downtime == november.downtime == minutes(60)
    # 1 − 60 / 44,640 = 99.865591…   ·   1 − 60 / 43,200 = 99.861111…
    assert round(october.percent, 6) == Decimal("99.865591")
    assert round(november.percent, 6) == Decimal("99.861111")


def test_maintenance_overlapping_an_incident_is_not_downtime():
    """Outage 01:30–03:00, planned window 02:00–04:00: 30 minutes down, 120 planned.

    1 − 30 / (43,200 − 120) = 1 − 30 / 43,080 = 99.930362 %; a 99.9 % budget is
    0.1 % of 43,080 = 43.08 minutes, 13.08 of them left.
    """
    figure = of(NOVEMBER, outages=[(at(1, 1, 30), at(1, 3))], maintenance=[(at(1, 2), at(1, 4))])
    assert figure.downtime == minutes(30)
    assert figure.planned == minutes(120)
    assert figure.eligible == minutes(43_080)
    assert round(figure.percent, 6) == Decimal("99.930362")
    assert figure.budget(Decimal("99.9")) == timedelta(minutes=43, seconds=4.8)
    assert figure.meets(Decimal("99.9"))


def test_an_incident_inside_maintenance_is_no_downtime_and_overlapping_windows_count_once():
    figure = of(
        NOVEMBER,
        outages=[(at(8, 2, 15), at(8, 3))],
        maintenance=[(at(8, 2), at(8, 4)), (at(8, 3), at(8, 5))],
    )
    assert figure.downtime == timedelta(0)
    assert figure.planned == minutes(180)
    assert figure.percent == 100


def test_two_overlapping_incidents_are_not_counted_twice():
    """10:00–11:00 and 10:30–12:00 are two hours down, not two and a half."""
    figure = of(NOVEMBER, outages=[(at(2, 10), at(2, 11)), (at(2, 10, 30), at(2, 12))])
    assert figure.downtime == minutes(120)
    # 1 − 120 / 43,200 = 99.722222…
    assert round(figure.percent, 6) == Decimal("99.722222")


def test_an_ongoing_incident_lasts_until_now_and_the_future_is_not_down():
    """Open since 10 Nov 12:00, now 12:45: 45 minutes so far, against the whole month.

    1 − 45 / 43,200 = 99.895833 %; the 43.2-minute budget is blown by 1.8 minutes.
    """
    now = at(10, 12, 45)
    figure = of(NOVEMBER, outages=[(at(10, 12), None)], now=now)
    assert figure.downtime == minutes(45)
    assert round(figure.percent, 6) == Decimal("99.895833")
    assert figure.budget(Decimal("99.9")) - figure.downtime == -timedelta(minutes=1.8)
    assert not figure.meets(Decimal("99.9"))


def test_a_resolve_recorded_in_the_future_counts_only_until_now():
    now = at(10, 12, 45)
    figure = of(NOVEMBER, outages=[(at(10, 12), at(10, 14))], now=now)
    assert figure.downtime == minutes(45)


def test_a_future_period_is_100_percent():
    figure = of(NOVEMBER, outages=[(at(1, 0), None)], now=at(1, 0, month=10))
    assert figure.downtime == timedelta(0)
    assert figure.percent == 100


def test_a_period_all_planned_maintenance_is_100_percent():
    day = periods.containing(periods.DAY, at(3, 0).date(), "UTC")
    figure = of(day, outages=[(at(3, 0), at(4, 0))], maintenance=[(at(2, 23), at(4, 1))])
    assert figure.eligible == timedelta(0)
    assert figure.percent == 100


def test_an_incident_open_before_the_period_counts_from_its_start():
    figure = of(NOVEMBER, outages=[(at(15, 0, month=10), at(1, 0, 30))])
    assert figure.downtime == minutes(30)


@pytest.mark.parametrize(
    ("down", "met"),
    [(timedelta(minutes=44, seconds=34.8), True), (timedelta(minutes=44, seconds=35), False)],
)
def test_a_dst_month_in_new_york_is_743_hours_and_the_budget_is_exact(down, met):
    """March 2027 in New York: the clocks spring forward on the 14th, so the month runs
    1 Mar 05:00 UTC → 1 Apr 04:00 UTC, 743 hours = 44,580 minutes. A 99.9 % budget is
    44.58 minutes (44 min 34.8 s): exactly that meets the target, a fifth of a second more not."""
    march = periods.containing(periods.MONTH, date(2027, 3, 1), "America/New_York")
    assert march.start == datetime(2027, 3, 1, 5, tzinfo=UTC)
    assert march.end == datetime(2027, 4, 1, 4, tzinfo=UTC)
    began = datetime(2027, 3, 14, 12, tzinfo=UTC)
    figure = of(march, outages=[(began, began + down)], now=datetime(2027, 5, 1, tzinfo=UTC))
    assert figure.period == minutes(44_580)
    assert figure.budget(Decimal("99.9")) == timedelta(minutes=44, seconds=34.8)
    assert figure.meets(Decimal("99.9")) is met
    assert (figure.percent >= Decimal("99.9")) is met


def test_local_days_and_months_follow_the_service_zone():
    """The day the clocks spring forward is 23 hours long, the day they fall back 25; an
    outage at 03:00 UTC on 1 March is still 28 February in New York."""
    spring = periods.containing(periods.DAY, datetime(2027, 3, 14).date(), "America/New_York")
    fall = periods.containing(periods.DAY, datetime(2026, 11, 1).date(), "America/New_York")
    assert spring.end - spring.start == timedelta(hours=23)
    assert fall.end - fall.start == timedelta(hours=25)
    february = periods.containing(periods.MONTH, date(2027, 2, 1), "America/New_York")
    outage = [(datetime(2027, 3, 1, 3, tzinfo=UTC), datetime(2027, 3, 1, 4, tzinfo=UTC))]
    now = datetime(2027, 5, 1, tzinfo=UTC)
    assert of(february, outages=outage, now=now).downtime == minutes(60)
    march = periods.containing(periods.MONTH, date(2027, 3, 1), "America/New_York")
    assert of(march, outages=outage, now=now).downtime == timedelta(0)


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "nov", "", "1969-12", "2026-11-01"])
def test_a_month_that_is_not_one_is_refused_with_a_reason(text):
    with pytest.raises(ValueError, match="is not a month"):
        parse_month(text)


def test_month_navigation_crosses_years():
    first = parse_month("2026-12")
    assert next_month(first) == datetime(2027, 1, 1).date()
    assert previous_month(datetime(2027, 1, 1).date()) == first
