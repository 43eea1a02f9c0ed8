"""One-off dated tasks: "security patches applied within 7 days of release" (Roofing's Patch
Management). Staff record a release; a dated checklist item due 7 days later appears in the
routine checklist, its owner tier is reminded once when it is overdue, and ticking it off works
as for any item. On the shipped plan at 2027 dates."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from notifications.models import Notification
from routine.models import Release, RoutineItem, RoutineTask
from routine.reminders import routine_items_remind_overdue
from routine.services import release_record, routine_item_complete, routine_items_create
from sla.models import Service, StaffService
from tests.routine.factories import routine_staff

pytestmark = pytest.mark.django_db

PLANS = Path(__file__).resolve().parents[2] / "plans"
RELEASED = datetime(2027, 5, 4, 16, 0, tzinfo=UTC)  # OpenSSL advisory, Tue 12:00 EDT
RECORDED = RELEASED + timedelta(hours=3)


@pytest.fixture
def task(db):
    with time_machine.travel(RELEASED - timedelta(days=10), tick=False):
        call_command("load_plan", str(PLANS / "roofing-platform.yaml"), stdout=io.StringIO())
    return RoutineTask.objects.get(
        service__slug="roofing-platform", name="Security patches applied"
    )


def record(task, by, name="OpenSSL 3.0.15", released_at=RELEASED):
    with time_machine.travel(RECORDED, tick=False):
        return release_record(task=task, name=name, released_at=released_at, by=by)


def test_the_plan_task_makes_no_periodic_items(task):
    """`every: on_release, within: 7d` is stored as worded and beat makes no item of it."""
    assert (task.every, task.within, task.tier) == ("on_release", "7d", 3)
    with time_machine.travel(RELEASED, tick=False):
        routine_items_create()
    assert not RoutineItem.objects.filter(task=task).exists()
    assert RoutineItem.objects.filter(service=task.service).exists()  # the others still do


def test_a_release_makes_an_item_due_seven_days_later_reminded_once_when_overdue(task):
    staff = routine_staff(3, email="tess@roofing.example")
    release = record(task, staff)
    item = RoutineItem.objects.get(release=release)
    assert item.due_at == RELEASED + timedelta(days=7)
    assert (item.tier, item.label, item.period_start.isoformat()) == (
        3,
        "OpenSSL 3.0.15",
        "2027-05-04",
    )
    # Two releases on one day are two items (the period rule is for periodic tasks only).
    record(task, staff, name="glibc 2.39-1")
    assert RoutineItem.objects.filter(task=task).count() == 2

    with time_machine.travel(RELEASED + timedelta(days=7) - timedelta(seconds=1), tick=False):
        routine_items_remind_overdue()
    mine = Notification.objects.filter(to="tess@roofing.example", subject__contains="OpenSSL")
    assert not mine.exists()
    with time_machine.travel(RELEASED + timedelta(days=7), tick=False):
        routine_items_remind_overdue()
        routine_items_remind_overdue()
    assert mine.count() == 1 and "OpenSSL 3.0.15" in mine.get().subject

    with time_machine.travel(RELEASED + timedelta(days=8), tick=False):
        routine_item_complete(item=item, by=staff, note="Patched on all hosts")
    assert RoutineItem.objects.get(pk=item.pk).done_at is not None


def test_refusals_change_nothing(task):
    staff = routine_staff(3)
    record(task, staff)
    weekly = RoutineTask.objects.get(service=task.service, name="Security log review")
    other = Service.objects.create(slug="other", name="Other")
    elsewhere = routine_staff(3)
    StaffService.objects.create(user=elsewhere, service=other)
    cases = [
        (dict(task=task, by=staff), ValidationError, "already recorded"),
        (dict(task=weekly, by=staff, name="x"), ValidationError, "not a task done on each"),
        (dict(task=task, by=staff, name=" "), ValidationError, "Name the release"),
        (
            dict(task=task, by=staff, name="future", released_at=RECORDED + timedelta(hours=1)),
            ValidationError,
            "in the past",
        ),
        (dict(task=task, by=elsewhere, name="y"), PermissionDenied, "do not work"),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            record(**kwargs)
    assert Release.objects.count() == 1 and RoutineItem.objects.filter(task=task).count() == 1


def test_staff_record_a_release_in_admin(client, task):
    staff = routine_staff(3)
    with time_machine.travel(RECORDED, tick=False):
        client.force_login(staff)
        response = client.post(
            "/admin/routine/release/add/",
            {
                "task": task.pk,
                "name": "OpenSSL 3.0.15",
                "released_at_0": "2027-05-04",
                "released_at_1": "16:00:00",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        listing = client.get("/admin/routine/release/").content.decode()
    assert "OpenSSL 3.0.15" in listing and "2027-05-11 16:00 UTC" in listing
    assert RoutineItem.objects.get(release__name="OpenSSL 3.0.15").due_at == RELEASED + timedelta(
        days=7
    )
