"""The shipped plans hold the seeds' maintenance windows, notices and routine tasks."""

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from dateutil.rrule import rrulestr
from django.core.management import call_command

from maintenance.models import MaintenancePolicy, MaintenanceWindow
from routine.models import RoutineTask

PLANS = Path(__file__).resolve().parents[2] / "plans"


@pytest.fixture
def loaded(db):
    call_command("load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO())


def dates_in(window, year, month):
    """The local dates of ``window``'s occurrences in one month (expanded with dateutil)."""
    first = datetime(year, month, 1, window.start.hour, window.start.minute)
    rule = rrulestr(window.rrule, dtstart=first)
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return [moment.date() for moment in rule.between(first, following, inc=True)]


def test_xsafe_sunday_window_and_48h_notice(loaded):
    """XSafe: Sunday 02:00–04:00 UTC; 48 h notice by banner and email."""
    window = MaintenanceWindow.objects.get(service__slug="xsafe-erp")
    assert (window.rrule, window.start.strftime("%H:%M"), window.duration, window.timezone) == (
        "FREQ=WEEKLY;BYDAY=SU",
        "02:00",
        "2h",
        "UTC",
    )
    assert all(day.weekday() == 6 for day in dates_in(window, 2026, 3))
    policy = MaintenancePolicy.objects.get(service__slug="xsafe-erp")
    assert policy.notices == ["48h"]
    assert set(policy.channels) == {"email", "banner"}


def test_legacy_window_inside_2_to_6_am_eastern(loaded):
    """Legacy: a 02:00–06:00 America/New_York window, 48 h notice, the slot enforced."""
    window = MaintenanceWindow.objects.get(service__slug="legacy-estate-os")
    assert (window.start.strftime("%H:%M"), window.duration, window.timezone) == (
        "02:00",
        "4h",
        "America/New_York",
    )
    policy = MaintenancePolicy.objects.get(service__slug="legacy-estate-os")
    assert policy.notices == ["48h"]
    assert policy.allowed == "02:00-06:00 America/New_York"


def test_roofing_windows_first_third_last_monday(loaded):
    """Roofing: windows on the first, third and last Monday of each month."""
    windows = {
        w.name: w for w in MaintenanceWindow.objects.filter(service__slug="roofing-platform")
    }
    assert dates_in(windows["Security updates"], 2026, 3) == [date(2026, 3, 2)]
    assert dates_in(windows["Database maintenance"], 2026, 3) == [date(2026, 3, 16)]
    assert dates_in(windows["Application updates"], 2026, 3) == [date(2026, 3, 30)]
    # A five-Monday month: the last Monday is the fifth.
    assert dates_in(windows["Application updates"], 2026, 6) == [date(2026, 6, 29)]
    assert dates_in(windows["Security updates"], 2026, 6) == [date(2026, 6, 1)]
    assert {w.timezone for w in windows.values()} == {"America/New_York"}


def test_roofing_notices_week_and_48h_and_quarterly_digest(loaded):
    """Roofing: email 1 week prior and 48 h notice; the calendar is published quarterly."""
    policy = MaintenancePolicy.objects.get(service__slug="roofing-platform")
    assert policy.notices == ["7d", "48h"]
    assert policy.quarterly_digest == "14d"


def test_roofing_routine_task_checklists(loaded):
    """Roofing: weekly, monthly, quarterly and annual checklists (five each in the seed list)."""
    tasks = RoutineTask.objects.filter(service__slug="roofing-platform")
    names = {t.name: t.every for t in tasks}
    assert names["Security log review"] == "weekly"
    assert names["Security patch application"] == "monthly"
    assert names["Disaster recovery testing"] == "quarterly"
    assert names["Business continuity planning"] == "annually"
    assert sum(1 for every in names.values() if every == "annually") == 5


def test_xsafe_routine_tasks(loaded):
    """XSafe: weekly backups verification and log rotation, monthly patches, quarterly DR drills;
    its backup policy as checks: the daily full backup, WAL shipping (daily), S3 replication."""
    tasks = RoutineTask.objects.filter(service__slug="xsafe-erp")
    assert [(t.name, t.every) for t in tasks] == [
        ("Database backups verification", "weekly"),
        ("Log rotation", "weekly"),
        ("Security patches (OS & dependencies)", "monthly"),
        ("Performance review", "monthly"),
        ("Major version upgrades", "quarterly"),
        ("Disaster recovery drill", "quarterly"),
        ("Full daily database backup taken (kept 30 days)", "daily"),
        ("Verify WAL shipping continuous (every 5 minutes, PITR)", "daily"),
        ("S3 versioning and cross-region replication enabled", "monthly"),
    ]
