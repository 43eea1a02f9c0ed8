"""Each figure of the dashboard on a small fixed month, worked out by hand (see conftest)."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import periods
from metrics.report import build_report
from sla.models import ServiceTargets
from tests.factories import PriorityFactory, ServiceFactory

from .conftest import NOW, at, fill_november, make_ticket
from .factories import IncidentFactory


def november_report(service, now=NOW):
    return build_report(
        service=service, period=periods.containing(periods.MONTH, date(2026, 11, 1), "UTC"), now=now
    )


def by_key(figures):
    return {f.key: f for f in figures}


def test_first_response_mean_over_answered_tickets_opened_in_the_period(november, metrics_service):
    """10 + 30 + 5 + 50 + 15 + 60 = 170 min over 6 answered tickets = 28.3 → 28 min ≤ 1 h."""
    item = by_key(november_report(metrics_service).targets)["first_response_avg"]
    assert (item.number, item.display) == (28, "28 min")
    assert item.detail == "6 of 7 opened tickets answered"
    assert (item.target_display, item.result) == ("≤ 1 h", "met")


def test_mttr_is_the_most_urgent_priority_resolved_in_the_period(november, metrics_service):
    """P1 resolved in November: 3 h and 6 h → 4 h 30 min, over the 4 h target. The P1 ticket
    resolved in December and the P2 ones do not count."""
    report = november_report(metrics_service)
    item = by_key(report.targets)["mttr"]
    assert item.label == "MTTR, P1 — Critical (most urgent priority)"
    assert (item.number, item.display, item.detail) == (
        270,
        "4 h 30 min",
        "2 resolved in the period",
    )
    assert (item.target_display, item.result) == ("≤ 4 h", "missed")
    # All priorities: 3 + 6 + 48 + 120 h = 177 h over 4 = 44 h 15 min.
    assert by_key(report.volume)["mttr_all"].display == "44 h 15 min"


def test_mtbf_is_period_length_per_outage_started_in_it(november, metrics_service):
    """720 h / 1 outage = 720 h: exactly on the target counts as met. The degraded incident,
    the outage begun in October and the other service's are not counted."""
    report = november_report(metrics_service)
    item = by_key(report.targets)["mtbf"]
    assert (item.number, item.display, item.detail) == (720 * 60, "720 h", "1 outage in 720 h")
    assert (item.target_display, item.result) == ("≥ 720 h", "met")
    volume = by_key(report.volume)
    assert volume["outages"].display == "1"
    assert volume["restore_avg"].display == "2 h"


def test_a_second_outage_halves_mtbf_and_misses_the_target(november, metrics_service):
    IncidentFactory(service=metrics_service, started_at=at(11, 28, 6))  # still open: counts
    item = by_key(november_report(metrics_service).targets)["mtbf"]
    assert (item.display, item.result) == ("360 h", "missed")


def test_mtbf_of_a_period_in_progress_counts_only_the_time_so_far(metrics_service, now):
    """On 10 December 12:00, December has run 9 days 12 hours = 228 h: one outage in it is an
    MTBF of 228 h (missed), not the month's 744 h (which would be met)."""
    IncidentFactory(service=metrics_service, started_at=at(12, 2, 6))
    report = build_report(
        service=metrics_service,
        period=periods.containing(periods.MONTH, date(2026, 12, 1), "UTC"),
        now=NOW,
    )
    assert report.in_progress
    item = by_key(report.targets)["mtbf"]
    assert (item.display, item.detail, item.result) == ("228 h", "1 outage in 228 h", "missed")


def test_mtbf_of_a_period_not_begun_is_no_data(metrics_service, now):
    item = by_key(
        build_report(
            service=metrics_service,
            period=periods.containing(periods.MONTH, date(2027, 1, 1), "UTC"),
            now=NOW,
        ).targets
    )["mtbf"]
    assert (item.display, item.result) == ("—", "no data")


def test_mtbf_uses_the_real_length_of_a_local_month_with_a_dst_change(db, now):
    """November in New York holds the fall-back night: 721 hours between its midnights."""
    service = ServiceFactory(timezone="America/New_York")
    PriorityFactory(service=service, code="P1", position=0)
    IncidentFactory(service=service, started_at=at(11, 15))
    report = build_report(
        service=service,
        period=periods.containing(periods.MONTH, date(2026, 11, 1), service.timezone),
        now=NOW,
    )
    assert by_key(report.targets)["mtbf"].display == "721 h"


def test_resolution_rate_is_resolved_share_of_the_opened_cohort(november, metrics_service):
    """Of the 7 opened in November, 4 are resolved by now (one of them in December): 57.1 %."""
    item = by_key(november_report(metrics_service).targets)["resolution_rate"]
    assert (item.number, item.display) == (Decimal("57.1"), "57.1 %")
    assert item.detail == "4 of 7 opened tickets resolved"
    assert (item.target_display, item.result) == ("≥ 75.0 %", "missed")


def test_csat_averages_ratings_of_tickets_resolved_in_the_period(november, metrics_service):
    """5, 3, 4 and 2 (the October ticket resolved in November); not the December one: 3.50."""
    item = by_key(november_report(metrics_service).targets)["csat"]
    assert (item.display, item.detail) == ("3.50 / 5", "4 ratings")
    assert (item.target_display, item.result) == ("≥ 4.00 / 5", "missed")


def test_sla_compliance_per_priority(november, metrics_service):
    """P1 response: met t1, t3, t7, missed t2 → 75 %. P2: met t4, t8, t5 past its deadline
    unanswered → 66.7 %. P1 resolution: met t1, t3, missed t2, t7 paused → 66.7 %, 1 running."""
    rows = {row.label: row.figures for row in november_report(metrics_service).priorities}
    assert list(rows) == ["P1 — Critical", "P2 — High", "All priorities"]
    p1, p2, total = rows["P1 — Critical"], rows["P2 — High"], rows["All priorities"]
    assert (p1["opened"].display, p2["opened"].display, total["opened"].display) == ("4", "3", "7")
    assert (p1["response_met"].display, p1["response_met"].detail) == ("75.0 %", "3 of 4")
    assert (p2["response_met"].display, p2["response_met"].detail) == ("66.7 %", "2 of 3")
    assert (total["response_met"].display, total["response_met"].detail) == ("71.4 %", "5 of 7")
    assert (p1["resolution_met"].display, p1["resolution_met"].detail) == (
        "66.7 %",
        "2 of 3, 1 running",
    )
    assert p2["resolution_met"].display == "no timer"
    # Per-priority means: P1 first response (10 + 30 + 5 + 15) / 4 = 15 min; P2 (50 + 60) / 2.
    assert (p1["first_response_avg"].display, p2["first_response_avg"].display) == (
        "15 min",
        "55 min",
    )
    # Resolved in November: P1 3 h and 6 h; P2 48 h and 120 h; their ratings.
    assert (p1["resolved"].display, p1["resolve_avg"].display) == ("2", "4 h 30 min")
    assert (p2["resolved"].display, p2["resolve_avg"].display) == ("2", "84 h")
    assert (p1["csat"].display, p2["csat"].display, total["csat"].display) == (
        "4.00 / 5",
        "3.00 / 5",
        "3.50 / 5",
    )


def test_retired_priorities_show_only_with_tickets_and_never_set_the_mttr(
    november, metrics_service
):
    """A priority dropped from the plan (retired) is listed for a period its tickets are in,
    hidden otherwise, and MTTR is judged on the first *current* priority even when a retired
    one sorts before it."""
    metrics_service.priorities.filter(code="P1").update(position=1)
    metrics_service.priorities.filter(code="P2").update(position=2)
    PriorityFactory(service=metrics_service, code="P0", name="Legacy", position=0, retired_at=NOW)
    PriorityFactory(service=metrics_service, code="P9", name="Unused", position=9, retired_at=NOW)
    make_ticket(metrics_service, "P0", at(11, 5, 9), status="open")
    report = november_report(metrics_service)
    assert [row.label for row in report.priorities] == [
        "P0 — Legacy",
        "P1 — Critical",
        "P2 — High",
        "All priorities",
    ]
    assert report.priorities[0].figures["opened"].display == "1"
    assert by_key(report.targets)["mttr"].label == "MTTR, P1 — Critical (most urgent priority)"


def test_opened_and_resolved_per_local_week(november, metrics_service):
    """Weeks start on Monday; 26 Oct and 30 Nov are the partial weeks at the month's edges.
    15 Nov 00:00 is a Sunday, so it belongs to the week of 9 Nov."""
    weeks = november_report(metrics_service).weeks
    assert [(w.label, w.partial, w.opened.number, w.resolved.number) for w in weeks] == [
        ("2026-10-26 (W44)", True, 0, 0),
        ("2026-11-02 (W45)", False, 2, 3),
        ("2026-11-09 (W46)", False, 2, 1),
        ("2026-11-16 (W47)", False, 1, 0),
        ("2026-11-23 (W48)", False, 1, 0),
        ("2026-11-30 (W49)", True, 1, 0),
    ]


def test_week_buckets_across_a_year_boundary_in_local_time(db, now):
    """January 2027 in New York: its first week is ISO 2026-W53 (Mon 28 Dec). A ticket at
    04:59 UTC on Monday 4 Jan is still Sunday evening in New York; 31 Jan 23:00 local is
    already 1 Feb in UTC and still counts in January."""
    service = ServiceFactory(timezone="America/New_York")
    PriorityFactory(service=service, code="P1", position=0)
    for created in [
        at(1, 1, 3, year=2027),  # 31 Dec 22:00 local: December
        at(1, 1, 5, 30, year=2027),  # 1 Jan 00:30 local
        at(1, 4, 4, 59, year=2027),  # Sun 3 Jan 23:59 local
        at(1, 4, 5, year=2027),  # Mon 4 Jan 00:00 local
        at(2, 1, 4, year=2027),  # Sun 31 Jan 23:00 local
        at(2, 1, 5, year=2027),  # 1 Feb 00:00 local: February
    ]:
        make_ticket(service, "P1", created, status="open")
    period = periods.containing(periods.MONTH, date(2027, 1, 1), service.timezone)
    weeks = build_report(service=service, period=period, now=NOW + timedelta(days=90)).weeks
    assert [(w.label, w.partial, w.opened.number) for w in weeks] == [
        ("2026-12-28 (W53)", True, 2),
        ("2027-01-04 (W01)", False, 1),
        ("2027-01-11 (W02)", False, 0),
        ("2027-01-18 (W03)", False, 0),
        ("2027-01-25 (W04)", False, 1),
    ]


def test_a_period_without_tickets_or_incidents_shows_dashes_not_errors(metrics_service, now):
    report = build_report(
        service=metrics_service,
        period=periods.containing(periods.MONTH, date(2026, 3, 1), "UTC"),
        now=NOW,
    )
    targets = by_key(report.targets)
    for key in ("first_response_avg", "mttr", "resolution_rate", "csat"):
        assert (targets[key].number, targets[key].display, targets[key].result) == (
            None,
            "—",
            "no data",
        )
    assert (targets["mtbf"].display, targets["mtbf"].result) == ("no outage", "met")
    for row in report.priorities:
        assert row.figures["opened"].display == "0"
        assert row.figures["response_met"].display == "—"
        assert row.figures["csat"].display == "—"
    assert by_key(report.volume)["restore_avg"].display == "—"


def test_without_plan_targets_nothing_is_marked_met_or_missed(november, metrics_service):
    ServiceTargets.objects.filter(service=metrics_service).delete()
    targets = november_report(metrics_service).targets
    assert {item.result for item in targets} == {"no target"}
    assert {item.target_display for item in targets} == {""}


def test_business_day_targets_are_not_compared_with_wall_clock_means(november, metrics_service):
    ServiceTargets.objects.filter(service=metrics_service).update(mttr="2bd")
    assert by_key(november_report(metrics_service).targets)["mttr"].result == "no target"


def test_query_count_does_not_grow_with_the_data(metrics_service, now):
    """One ticket or sixty over several weeks, priorities and incidents: the same queries."""

    def count():
        with CaptureQueriesContext(connection) as queries:
            november_report(metrics_service)
        return len(queries)

    make_ticket(metrics_service, "P1", at(11, 3), status="open")
    small = count()
    fill_november(metrics_service)
    # Both read after tickets were written: the report's seven reads and the rollup's refresh
    # (six, and the savepoint of the test's transaction: tests/metrics/test_rollup.py).
    assert count() == small == 7 + 6 + 2
