"""The seeds' backup schedules and recovery objectives run as routine checks (plans/*.yaml):
Legacy's database/S3/logs table with its retention and a DR drill held to "RPO < 1 h" and
"RTO < 4 h" (strict: exactly 4 h misses); XSafe's daily full backup kept 30 days and its WAL
every 5 minutes, checked daily. Driven at pinned 2027 dates."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from routine.models import RoutineItem
from routine.services import routine_item_record_results, routine_items_create
from sla.models import Service
from tests import factories

pytestmark = pytest.mark.django_db

PLANS = Path(__file__).resolve().parents[2] / "plans"
LOADED = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)  # a Wednesday
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def items():
    with time_machine.travel(LOADED, tick=False):
        call_command(
            "load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO()
        )

    def items(slug):
        service = Service.objects.get(slug=slug)
        routine_items_create(now=NOW, service=service)
        return {item.task.name: item for item in RoutineItem.objects.filter(service=service)}

    return items


def test_legacy_checks_each_row_of_its_backup_table(items):
    """Database daily + continuous, documents replicated, logs continuous: a check each day;
    the retention column (30 days, indefinite, 1 year) monthly; the DR drill quarterly."""
    found = items("legacy-estate-os")
    daily = sorted(name for name, item in found.items() if item.every == "daily")
    assert daily == [
        "Database continuous backup (point-in-time recovery) has no gap",
        "Database daily backup taken and restorable list current (kept 30 days)",
        "Documents (S3) real-time replication current",
        "Logs shipped continuously, no gap",
    ]
    assert all(found[name].period_start.isoformat() == "2027-03-10" for name in daily)
    retention = found["Backup retention (database 30 days, documents indefinite, logs 1 year)"]
    assert retention.every == "monthly"
    drill = found["Disaster recovery drill (restore; RPO under 1 h, RTO under 4 h)"]
    assert (drill.every, drill.recovery_test, drill.tier) == ("quarterly", True, 2)


def test_legacy_drill_is_held_to_strict_objectives(items):
    """RTO < 4 h: a 4-hour restore misses it, 3 h 59 min meets it; RPO < 1 h: 59 minutes of
    lost data meets it, an hour misses it."""
    drill = items("legacy-estate-os")[
        "Disaster recovery drill (restore; RPO under 1 h, RTO under 4 h)"
    ]
    engineer = factories.StaffFactory(tier=2)
    drill = routine_item_record_results(
        item=drill, by=engineer, rto_achieved="4h", rpo_achieved="59m", now=NOW
    )
    assert (drill.rto_target, drill.rpo_target) == ("<4h", "<1h")
    assert (drill.rto_met, drill.rpo_met) == (False, True)
    drill = routine_item_record_results(
        item=drill, by=engineer, rto_achieved="3h59m", rpo_achieved="1h", now=NOW
    )
    assert (drill.rto_met, drill.rpo_met) == (True, False)


def test_xsafe_checks_its_daily_backup_and_wal_shipping_every_day(items):
    """ "Full daily backup (kept for 30 days), WAL logs every 5 mins": two daily checks (a
    5-minute checklist item is not one anyone could tick), beside the weekly verification."""
    found = items("xsafe-erp")
    assert found["Full daily database backup taken (kept 30 days)"].every == "daily"
    assert found["Verify WAL shipping continuous (every 5 minutes, PITR)"].every == "daily"
    assert found["Database backups verification"].every == "weekly"
    assert found["S3 versioning and cross-region replication enabled"].every == "monthly"
    assert not found["Verify WAL shipping continuous (every 5 minutes, PITR)"].recovery_test


def test_xsafe_drill_is_met_exactly_on_its_bare_objectives(items):
    """XSafe words "RTO: 1 hour", "RPO: 5 minutes" without "<": a drill exactly on them meets."""
    drill = items("xsafe-erp")["Disaster recovery drill"]
    drill = routine_item_record_results(
        item=drill,
        by=factories.StaffFactory(tier=3),
        rto_achieved=timedelta(hours=1),
        rpo_achieved="5m",
        now=NOW,
    )
    assert (drill.rto_target, drill.rpo_target, drill.rto_met, drill.rpo_met) == (
        "1h",
        "5m",
        True,
        True,
    )
