"""maintenance_apply_plan keeps windows and routine tasks in step with the file."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from maintenance.models import MaintenancePolicy, MaintenanceWindow
from routine.models import RoutineTask

PLANS = Path(__file__).resolve().parents[2] / "plans"


def load(path):
    out = io.StringIO()
    call_command("load_plan", str(path), stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def roofing(tmp_path, db):
    path = tmp_path / "roofing.yaml"
    path.write_text((PLANS / "roofing-platform.yaml").read_text())
    load(path)
    return path


def test_removed_window_is_deactivated_and_comes_back(roofing):
    """A window dropped from the file is deactivated (kept for its notices), and reactivated."""
    text = roofing.read_text()
    start = text.index("    - name: Database maintenance")
    end = text.index("    - name: Application updates")
    roofing.write_text(text[:start] + text[end:])
    assert load(roofing) == "roofing-platform: created 0, updated 1, retired 1"
    # (the remaining window moved up one position: that is the update)
    window = MaintenanceWindow.objects.get(name="Database maintenance")
    assert not window.is_active
    roofing.write_text(text)
    assert load(roofing) == "roofing-platform: created 0, updated 2, retired 0"
    window.refresh_from_db()
    assert window.is_active


def test_edited_window_is_updated(roofing):
    """Changing a window's start updates it in place (same row, same id)."""
    window = MaintenanceWindow.objects.get(name="Security updates")
    roofing.write_text(roofing.read_text().replace('start: "02:00"', 'start: "01:00"', 1))
    assert load(roofing) == "roofing-platform: created 0, updated 1, retired 0"
    window.refresh_from_db()
    assert window.start.hour == 1


def test_removed_routine_task_is_retired(roofing):
    """A routine task dropped from the file is retired, not deleted."""
    text = roofing.read_text()
    line = "  - {name: Security log review, every: weekly, category: security, tier: 3}\n"
    assert line in text
    active_before = RoutineTask.objects.filter(retired_at__isnull=True).count()
    roofing.write_text(text.replace(line, ""))
    load(roofing)
    task = RoutineTask.objects.get(name="Security log review")
    assert task.retired_at is not None
    assert RoutineTask.objects.filter(retired_at__isnull=True).count() == active_before - 1


def test_removed_maintenance_section(roofing):
    """Without a maintenance section the policy goes and every window is deactivated."""
    text = roofing.read_text()
    start = text.index("maintenance:\n")
    end = text.index("# Owners (tier)")
    roofing.write_text(text[:start] + text[end:])
    assert load(roofing) == "roofing-platform: created 0, updated 0, retired 4"
    assert not MaintenancePolicy.objects.exists()
    assert not MaintenanceWindow.objects.filter(is_active=True).exists()


def test_dropping_an_announced_window_cancels_it_for_those_told(db, tmp_path, clock, mailoutbox):
    """A window dropped from the plan after its 7-day notice went out: each notified subscriber
    gets one cancellation, however often the plan is loaded; nobody hears of it again."""
    from datetime import UTC, datetime

    from maintenance.models import NoticeRound
    from maintenance.notices import notices_send_due
    from notifications.delivery import notifications_send_due
    from sla.models import Service
    from tests.maintenance.conftest import subscribe_customers

    path = tmp_path / "roofing.yaml"
    text = (PLANS / "roofing-platform.yaml").read_text()
    path.write_text(text)
    load(path)
    service = Service.objects.get(slug="roofing-platform")
    subscribe_customers(service, 2)
    # Third Monday of January 2027, 02:00 New York = 07:00 UTC; its 7-day notice is due.
    clock.move_to(datetime(2027, 1, 12, 8, 0, tzinfo=UTC))
    notices_send_due()
    notifications_send_due()
    told = [m for m in mailoutbox if "Database maintenance" in m.subject]
    assert len(told) == 2

    start = text.index("    - name: Database maintenance")
    end = text.index("    - name: Application updates")
    path.write_text(text[:start] + text[end:])
    load(path)
    load(path)  # twice: still one cancellation each
    clock.move_to(datetime(2027, 1, 12, 8, 5, tzinfo=UTC))
    notices_send_due()
    clock.move_to(datetime(2027, 1, 16, 8, 0, tzinfo=UTC))  # the 48-hour lead: nothing more
    notices_send_due()
    notifications_send_due()
    cancelled = [m for m in mailoutbox if m.subject.startswith("Maintenance cancelled")]
    assert sorted(m.to[0] for m in cancelled) == ["sub0@example.com", "sub1@example.com"]
    assert "Database maintenance" in cancelled[0].subject + cancelled[0].body
    later = [m for m in mailoutbox[len(told) :] if "Database maintenance" in m.subject]
    assert later == cancelled
    assert not NoticeRound.objects.filter(
        window__name="Database maintenance", status=NoticeRound.Status.PENDING
    ).exists()
