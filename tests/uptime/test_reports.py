"""The monthly report from the database: incidents, maintenance windows and plan targets."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maintenance.services import occurrence_cancel, occurrence_move
from sla.models import ServiceTargets
from tests import factories
from tests.incidents.factories import IncidentFactory
from tests.uptime.conftest import NOW, priorities, sunday_window
from uptime.reports import monthly_report

NOVEMBER = date(2026, 11, 1)


def at(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def report_of(service, first=NOVEMBER, now=NOW):
    [row] = monthly_report(services=[service], first=first, now=now)
    return row


def test_a_month_with_no_incidents_is_100_percent_with_the_whole_budget_left(erp):
    row = report_of(erp).overall
    assert row.availability.percent == 100
    assert row.availability.planned_minutes == 600
    assert row.budget_minutes == Decimal("42.6")
    assert row.left_minutes == Decimal("42.6")
    assert row.state == "met"


def test_an_incident_across_the_month_boundary_is_split_between_the_months(erp):
    """31 Oct 23:30 → 1 Nov 00:30 UTC: 30 minutes in each month.

    October 2026 has four Sundays (4, 11, 18, 25): 44,640 − 480 = 44,160 eligible minutes,
    1 − 30 / 44,160 = 99.932065 %. November: 1 − 30 / 42,600 = 99.929577 %.
    """
    IncidentFactory(service=erp, started_at=at(10, 31, 23, 30), resolved_at=at(11, 1, 0, 30))
    october = report_of(erp, first=date(2026, 10, 1)).overall
    november = report_of(erp).overall
    assert october.availability.downtime_minutes == november.availability.downtime_minutes == 30
    assert october.availability.planned_minutes == 480
    assert round(october.availability.percent, 6) == Decimal("99.932065")
    assert round(november.availability.percent, 6) == Decimal("99.929577")
    assert november.left_minutes == Decimal("12.6")
    assert (october.state, november.state) == ("met", "met")


def test_maintenance_overlapping_an_incident_is_not_downtime(erp):
    """Down Sunday 1 Nov 01:00–02:30; the window is 02:00–04:00: 60 minutes of downtime.

    1 − 60 / 42,600 = 99.859155 %: the 42.6-minute budget is blown by 17.4 minutes.
    """
    IncidentFactory(service=erp, started_at=at(11, 1, 1), resolved_at=at(11, 1, 2, 30))
    row = report_of(erp).overall
    assert row.availability.downtime_minutes == 60
    assert round(row.availability.percent, 6) == Decimal("99.859155")
    assert row.left_minutes == Decimal("-17.4")
    assert row.state == "missed"


def test_a_cancelled_occurrence_is_not_planned_maintenance(erp):
    """Sunday 8 Nov is cancelled: an outage then is downtime, and the month has 480 planned
    minutes (43,200 − 480 = 42,720 eligible; budget 42.72 minutes)."""
    occurrence_cancel(window=erp.maintenance_windows.get(), starts_at=at(11, 8, 2), by=None)
    IncidentFactory(service=erp, started_at=at(11, 8, 2), resolved_at=at(11, 8, 2, 20))
    row = report_of(erp).overall
    assert row.availability.planned_minutes == 480
    assert row.availability.downtime_minutes == 20
    assert row.budget_minutes == Decimal("42.72")
    assert row.left_minutes == Decimal("22.72")


def test_a_moved_occurrence_is_planned_at_its_new_time_not_its_old_one(erp, clock):
    """Sunday 15 Nov 02:00 moved (on 1 Nov) to Saturday 14 Nov 02:00: an outage on the
    Saturday 02:30–03:00 is inside planned maintenance, one on the Sunday 02:00–02:20 is 20
    minutes of downtime. Still five windows, 600 planned minutes; 42.6 − 20 = 22.6 left."""
    clock.move_to(at(11, 1, 12))
    occurrence_move(
        window=erp.maintenance_windows.get(),
        starts_at=at(11, 15, 2),
        new_start=at(11, 14, 2),
        by=None,
    )
    IncidentFactory(service=erp, started_at=at(11, 14, 2, 30), resolved_at=at(11, 14, 3))
    IncidentFactory(service=erp, started_at=at(11, 15, 2), resolved_at=at(11, 15, 2, 20))
    row = report_of(erp).overall
    assert row.availability.planned_minutes == 600
    assert row.availability.downtime_minutes == 20
    assert row.left_minutes == Decimal("22.6")


def test_an_outage_open_since_the_month_before_counts_from_the_month_start(erp, clock):
    """Open since 30 Nov 23:00; now 9 Dec 12:00. November gets its last hour; December gets
    1 Dec 00:00 → 9 Dec 12:00 (12,240 minutes) less Sunday 6 Dec's window (120): 12,120."""
    IncidentFactory(service=erp, started_at=at(11, 30, 23), resolved_at=None)
    november = report_of(erp)
    december = report_of(erp, first=date(2026, 12, 1))
    assert november.overall.availability.downtime_minutes == 60
    assert december.overall.availability.downtime_minutes == 12_120
    assert november.outages == december.outages == 1
    assert december.overall.state == "missed"


def test_an_outage_resolved_at_the_stroke_of_midnight_belongs_to_the_month_before(erp):
    """31 Oct 23:00 → 1 Nov 00:00 exactly: an hour of October, nothing of November."""
    IncidentFactory(service=erp, started_at=at(10, 31, 23), resolved_at=at(11, 1, 0))
    assert report_of(erp, first=date(2026, 10, 1)).overall.availability.downtime_minutes == 60
    november = report_of(erp)
    assert november.overall.availability.percent == 100
    assert november.outages == 0


def test_two_overlapping_incidents_count_once_and_a_non_outage_not_at_all(erp):
    IncidentFactory(service=erp, started_at=at(11, 3, 10), resolved_at=at(11, 3, 10, 20))
    IncidentFactory(service=erp, started_at=at(11, 3, 10, 10), resolved_at=at(11, 3, 10, 30))
    IncidentFactory(service=erp, started_at=at(11, 4, 10), resolved_at=at(11, 4, 12), outage=False)
    row = report_of(erp)
    assert row.overall.availability.downtime_minutes == 30
    assert row.outages == 2
    assert row.overall.left_minutes == Decimal("12.6")


def test_an_ongoing_incident_counts_until_now(erp, clock):
    """Open since 9 Dec 11:20; now is 12:00: 40 minutes so far, counted live in December.

    December 2026 has four Sundays (6, 13, 20, 27): 44,640 − 480 = 44,160 eligible minutes,
    a 44.16-minute budget with 4.16 left, and the month not over: on track.
    """
    IncidentFactory(service=erp, started_at=at(12, 9, 11, 20), resolved_at=None)
    row = report_of(erp, first=date(2026, 12, 1)).overall
    assert row.availability.downtime_minutes == 40
    assert row.left_minutes == Decimal("4.16")
    assert row.state == "on-track"
    clock.move_to(NOW + timedelta(minutes=5))
    row = monthly_report(services=[erp], first=date(2026, 12, 1), now=datetime.now(UTC))[0]
    assert row.overall.availability.downtime_minutes == 45
    assert row.overall.left_minutes == Decimal("-0.84")
    assert row.overall.state == "missed"


def test_a_future_month_is_100_percent(erp):
    IncidentFactory(service=erp, started_at=at(12, 9, 11, 20), resolved_at=None)
    row = report_of(erp, first=date(2027, 1, 1)).overall
    assert row.availability.percent == 100
    assert row.state == "on-track"


def test_per_priority_rows_count_outages_of_that_severity_or_more_urgent(db):
    """XSafe-like targets P0 99.99 · P1 99.9 · P2 99.5 · P3 none, no overall target, no window.

    November: 43,200 minutes. A 3-minute P0 outage and a 60-minute P2 outage:
    P0 row: 3 minutes of a 4.32-minute budget (met, 1.32 left);
    P1 row: 3 minutes of 43.2 (met, 40.2 left);
    P2 row: 63 minutes of 216 (met, 153 left), 1 − 63 / 43,200 = 99.854167 %.
    """
    service = factories.ServiceFactory(slug="xsafe", name="XSafe", timezone="UTC")
    p0, _p1, p2, _p3 = priorities(service)
    IncidentFactory(
        service=service, severity=p0, started_at=at(11, 2, 9), resolved_at=at(11, 2, 9, 3)
    )
    IncidentFactory(
        service=service, severity=p2, started_at=at(11, 5, 9), resolved_at=at(11, 5, 10)
    )
    row = report_of(service)
    assert row.overall.state == "no-target" and row.overall.budget is None
    assert row.overall.availability.downtime_minutes == 63
    lines = {line.label: line for line in row.priorities}
    assert list(lines) == ["P0 — Critical", "P1 — High", "P2 — Medium"]
    assert [
        (line.availability.downtime_minutes, line.budget_minutes, line.left_minutes, line.state)
        for line in lines.values()
    ] == [
        (3, Decimal("4.32"), Decimal("1.32"), "met"),
        (3, Decimal("43.2"), Decimal("40.2"), "met"),
        (63, Decimal("216"), Decimal("153"), "met"),
    ]
    assert round(lines["P2 — Medium"].availability.percent, 6) == Decimal("99.854167")


def test_a_p0_outage_longer_than_its_budget_misses_p0_only(db):
    service = factories.ServiceFactory(slug="xsafe", name="XSafe", timezone="UTC")
    p0 = priorities(service)[0]
    IncidentFactory(
        service=service, severity=p0, started_at=at(11, 2, 9), resolved_at=at(11, 2, 9, 5)
    )
    states = [line.state for line in report_of(service).priorities]
    assert states == ["missed", "met", "met"]


def test_months_are_the_service_local_months(db):
    """New York's November 2026 is 721 hours (the clocks fall back on the 1st): an outage at
    1 Dec 03:00–04:00 UTC (30 Nov 22:00 EST) belongs to November there, to December in UTC."""
    new_york = factories.ServiceFactory(slug="ny", name="NY", timezone="America/New_York")
    utc = factories.ServiceFactory(slug="utc", name="UTC", timezone="UTC")
    for service in (new_york, utc):
        ServiceTargets.objects.create(service=service, uptime=Decimal("99.9"))
        IncidentFactory(service=service, started_at=at(12, 1, 3), resolved_at=at(12, 1, 4))
    ny_row, utc_row = monthly_report(services=[new_york, utc], first=NOVEMBER, now=NOW)
    assert ny_row.period.end - ny_row.period.start == timedelta(hours=721)
    assert ny_row.overall.availability.downtime_minutes == 60
    # 721 h = 43,260 minutes: budget 43.26, left −16.74.
    assert ny_row.overall.left_minutes == Decimal("-16.74")
    assert utc_row.overall.availability.downtime_minutes == 0


@pytest.mark.parametrize("count", [1, 4])
def test_the_report_reads_a_fixed_number_of_queries(db, count):
    """Outages, windows, exceptions, overall targets, priority targets: five queries for any
    number of services, incidents and windows."""
    services = []
    for n in range(count):
        service = factories.ServiceFactory(slug=f"s{n}", name=f"S{n}", timezone="UTC")
        ServiceTargets.objects.create(service=service, uptime=Decimal("99.9"))
        priorities(service)
        sunday_window(service)
        for day in (2, 3, 4):
            IncidentFactory(service=service, started_at=at(11, day, 9), resolved_at=at(11, day, 10))
        services.append(service)
    with CaptureQueriesContext(connection) as queries:
        report = monthly_report(services=services, first=NOVEMBER, now=NOW)
    assert len(queries) == 5
    assert all(row.overall.availability.downtime_minutes == 180 for row in report)
