"""An uptime target written strictly (">99.9") is missed by a month exactly on it; the bare
99.9 every seed plan writes is met by the same month."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tests.incidents.factories import IncidentFactory
from tests.uptime.conftest import NOW
from uptime.reports import monthly_report


def november(service):
    [row] = monthly_report(services=[service], first=date(2026, 11, 1), now=NOW)
    return row.overall


def test_a_month_down_exactly_its_budget_misses_a_strict_target(erp):
    """November (42,600 eligible minutes at 99.9 %: a 42.6-minute budget), down 42 min 36 s:
    exactly 99.9 % — met at "99.9", missed at ">99.9"."""
    start = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    IncidentFactory(service=erp, started_at=start, resolved_at=start + timedelta(seconds=2556))
    row = november(erp)
    assert row.availability.percent == Decimal("99.9")
    assert row.state == "met"
    erp.targets.strict = ["uptime"]
    erp.targets.save(update_fields=["strict"])
    row = november(erp)
    assert (row.state, row.strict) == ("missed", True)


def test_a_month_with_no_downtime_meets_a_strict_target(erp):
    erp.targets.strict = ["uptime"]
    erp.targets.save(update_fields=["strict"])
    assert november(erp).state == "met"
