"""Beat creates each task's item of each period once: twice, concurrently, late or not."""

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routine.models import RoutineItem
from routine.services import routine_items_create
from routine.tasks import create_routine_items
from tests.concurrency import run_together
from tests.routine.conftest import NOW
from tests.routine.factories import RoutineTaskFactory

pytestmark = pytest.mark.django_db


def test_each_active_task_gets_its_current_period_item(clock, make_task):
    """Tuesday 24 November 2026 in Berlin: week 48, November, Q4, 2026 and the day itself;
    each due at the end of its period, Berlin time, stored in UTC."""
    tasks = {
        every: make_task(name=f"{every} chore", every=every, tier=tier)
        for every, tier in [
            ("daily", None),
            ("weekly", 2),
            ("monthly", 3),
            ("quarterly", 3),
            ("annually", 1),
        ]
    }
    assert routine_items_create() == 5
    items = {item.task_id: item for item in RoutineItem.objects.select_related("task")}
    expected = {
        "daily": ("2026-11-24", date(2026, 11, 24), date(2026, 11, 24), datetime(2026, 11, 24, 23)),
        "weekly": (
            "week 48 2026",
            date(2026, 11, 23),
            date(2026, 11, 29),
            datetime(2026, 11, 29, 23),
        ),
        "monthly": (
            "November 2026",
            date(2026, 11, 1),
            date(2026, 11, 30),
            datetime(2026, 11, 30, 23),
        ),
        "quarterly": ("Q4 2026", date(2026, 10, 1), date(2026, 12, 31), datetime(2026, 12, 31, 23)),
        "annually": ("2026", date(2026, 1, 1), date(2026, 12, 31), datetime(2026, 12, 31, 23)),
    }
    for every, (label, start, end, due) in expected.items():
        item = items[tasks[every].pk]
        assert (item.label, item.period_start, item.period_end) == (label, start, end)
        assert item.due_at == due.replace(tzinfo=UTC)  # Berlin midnight, CET = UTC+1
        assert item.every == every
        assert item.service_id == tasks[every].service_id
        assert item.done_at is None and item.reminded_at is None
    assert str(items[tasks["weekly"].pk]) == "weekly chore — week 48 2026"
    # The owner tier is the task's; without one, Tier 1.
    assert {every: items[task.pk].tier for every, task in tasks.items()} == {
        "daily": 1,
        "weekly": 2,
        "monthly": 3,
        "quarterly": 3,
        "annually": 1,
    }


def test_running_twice_creates_nothing_more(clock, make_task):
    make_task(every="weekly")
    make_task(every="monthly")
    assert create_routine_items() == 2
    before = list(RoutineItem.objects.order_by("pk").values_list("pk", "due_at"))
    assert create_routine_items() == 0
    assert list(RoutineItem.objects.order_by("pk").values_list("pk", "due_at")) == before


def test_a_new_period_gets_its_item_and_the_old_one_stays(clock, make_task):
    task = make_task(every="weekly")
    routine_items_create()
    clock.move_to(NOW + timedelta(days=6))  # Monday 30 November: week 49
    assert routine_items_create() == 1
    assert list(
        RoutineItem.objects.filter(task=task)
        .order_by("period_start")
        .values_list("label", flat=True)
    ) == [
        "week 48 2026",
        "week 49 2026",
    ]


def test_a_run_reads_a_fixed_number_of_queries_and_its_item_read_joins_nothing(clock, make_task):
    """1 task or 40: the same reads (tasks, existing items) and the INSERTs the backend needs
    for the rows, never one per task: one INSERT on PostgreSQL; SQLite caps one statement at
    999 parameters, so Django splits the rows into batches of 999 // columns. The
    existing-items read is the item table alone through its due-time index: no join, no sort."""

    def run():
        with CaptureQueriesContext(connection) as queries:
            created = routine_items_create()
        return created, [q["sql"] for q in queries.captured_queries]

    def inserts(sqls):
        return [sql for sql in sqls if sql.startswith("INSERT")]

    def others(sqls):
        return [sql.split(" ", 1)[0] for sql in sqls if not sql.startswith("INSERT")]

    def batches(rows):
        columns = [field for field in RoutineItem._meta.concrete_fields if not field.primary_key]
        per_insert = min(1000, connection.ops.bulk_batch_size(columns, [None] * rows))
        return math.ceil(rows / per_insert)

    make_task(every="weekly")
    _, one = run()
    for n in range(39):
        make_task(every=["daily", "weekly", "monthly"][n % 3], name=f"chore {n}")
    created, forty = run()
    assert created == 39
    assert others(forty) == others(one)
    assert len(inserts(one)) == 1
    assert len(inserts(forty)) == batches(created)
    if connection.vendor == "postgresql":
        assert len(inserts(forty)) == 1
    [read] = [sql for sql in forty if sql.startswith('SELECT "routine_routineitem"')]
    assert "JOIN" not in read and "ORDER BY" not in read


def test_retired_tasks_produce_nothing(clock, make_task):
    make_task(every="weekly", retired_at=timezone.now())
    make_task(every="daily", retired_at=timezone.now() - timedelta(days=3))
    assert routine_items_create() == 0
    assert not RoutineItem.objects.exists()


def test_a_task_retired_later_gets_no_new_period(clock, make_task):
    task = make_task(every="weekly")
    routine_items_create()
    task.retired_at = timezone.now()
    task.save(update_fields=["retired_at"])
    clock.move_to(NOW + timedelta(days=14))
    assert routine_items_create() == 0
    assert RoutineItem.objects.filter(task=task).count() == 1


def test_catches_up_the_periods_missed_while_beat_was_down(clock, make_task):
    """Beat ran last in week 46, then was down for two weeks: the next run makes weeks 47
    and 48 (47 already overdue), not a period before the task existed."""
    clock.move_to(datetime(2026, 11, 10, 10, tzinfo=UTC))  # Tuesday of week 46
    task = make_task(every="weekly")
    assert routine_items_create() == 1
    clock.move_to(NOW)
    assert routine_items_create() == 2
    labels = list(
        RoutineItem.objects.filter(task=task)
        .order_by("period_start")
        .values_list("label", flat=True)
    )
    assert labels == ["week 46 2026", "week 47 2026", "week 48 2026"]


def test_catch_up_reaches_back_a_month_at_most(clock, make_task):
    clock.move_to(datetime(2026, 6, 1, tzinfo=UTC))
    task = make_task(every="weekly")
    clock.move_to(NOW)  # nearly six months later, first run ever
    routine_items_create()
    starts = list(RoutineItem.objects.filter(task=task).values_list("period_start", flat=True))
    # 31 days before Tuesday 24 November is Saturday 24 October, in week 43: weeks 43–48.
    assert sorted(starts)[0] == date(2026, 10, 19)
    assert len(starts) == 6


def test_a_task_made_daily_by_a_plan_edit_gets_no_month_of_overdue_days(clock, make_task):
    """Weekly since week 46; the plan makes it daily on Tuesday 24 November (the loader saves
    ``every`` and ``updated_at``): today's item, not 31 already-overdue days to remind."""
    clock.move_to(datetime(2026, 11, 10, 10, tzinfo=UTC))
    task = make_task(every="weekly")
    routine_items_create()
    clock.move_to(NOW)
    task.every = "daily"
    task.save(update_fields=["every", "updated_at"])
    routine_items_create()
    daily = RoutineItem.objects.filter(task=task, every="daily")
    assert list(daily.values_list("label", flat=True)) == ["2026-11-24"]


def test_a_task_back_in_the_plan_gets_no_items_for_the_weeks_it_was_out(clock, make_task):
    """Retired in week 45, back in week 48: week 48's item only, not weeks 45–47 backfilled
    as overdue."""
    clock.move_to(datetime(2026, 11, 3, 10, tzinfo=UTC))  # Tuesday of week 45
    task = make_task(every="weekly", retired_at=timezone.now())
    clock.move_to(NOW)
    task.retired_at = None
    task.save(update_fields=["retired_at", "updated_at"])
    routine_items_create()
    assert list(RoutineItem.objects.filter(task=task).values_list("label", flat=True)) == [
        "week 48 2026"
    ]


def test_a_task_whose_tier_is_above_the_staff_tiers_goes_to_the_top_tier(clock, make_task):
    make_task(every="weekly", tier=5)
    routine_items_create()
    assert RoutineItem.objects.get().tier == 3


def test_seed_plan_tasks_become_dated_items_and_drills_are_recognised(clock, db):
    """The XSafe ERP plan: 'Database backups verification — week 48 2026' for Tier 2, and the
    quarterly 'Disaster recovery drill' is a recovery test."""
    call_command("load_plan", "plans/xsafe-erp.yaml", verbosity=0)
    routine_items_create()
    items = {str(item): item for item in RoutineItem.objects.select_related("task")}
    backups = items["Database backups verification — week 48 2026"]
    assert (backups.tier, backups.recovery_test) == (2, False)
    drill = items["Disaster recovery drill — Q4 2026"]
    assert (drill.tier, drill.recovery_test) == (3, True)
    assert not any(
        item.recovery_test for name, item in items.items() if "Disaster recovery" not in name
    )


def test_loading_a_plan_creates_the_current_items_at_once(clock, db):
    """No waiting for the next beat run: the plan's checklists exist once it is loaded, and a
    second load (or the beat task after it) adds nothing."""
    call_command("load_plan", "plans/xsafe-erp.yaml", verbosity=0)
    items = set(RoutineItem.objects.values_list("pk", flat=True))
    assert "Database backups verification — week 48 2026" in {
        str(item) for item in RoutineItem.objects.select_related("task")
    }
    call_command("load_plan", "plans/xsafe-erp.yaml", verbosity=0)
    assert routine_items_create() == 0
    assert set(RoutineItem.objects.values_list("pk", flat=True)) == items


def test_loading_a_plan_creates_only_its_own_services_items(clock, make_task):
    """Another service's tasks wait for beat: a plan load neither reads nor inserts (and so
    holds no insert locks on) every service's checklist in its transaction."""
    other = make_task(name="Other service's chore", every="weekly")
    call_command("load_plan", "plans/xsafe-erp.yaml", verbosity=0)
    assert RoutineItem.objects.exists()
    assert not RoutineItem.objects.filter(task=other).exists()
    assert routine_items_create() == 1


def test_the_service_time_zone_decides_the_period(clock, db):
    """At 2026-11-29 23:30 UTC it is already Monday of week 49 in Tokyo, still Sunday of week
    48 in New York."""
    from tests import factories

    clock.move_to(datetime(2026, 11, 29, 23, 30, tzinfo=UTC))
    tokyo = RoutineTaskFactory(service=factories.ServiceFactory(timezone="Asia/Tokyo"))
    new_york = RoutineTaskFactory(service=factories.ServiceFactory(timezone="America/New_York"))
    routine_items_create()
    assert RoutineItem.objects.get(task=tokyo).label == "week 49 2026"
    assert RoutineItem.objects.get(task=new_york).label == "week 48 2026"
    assert RoutineItem.objects.get(task=new_york).due_at == datetime(2026, 11, 30, 5, tzinfo=UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_runs_create_each_item_once(workers):
    """Several beat runs at the same moment over 40 tasks (with a month of daily catch-up):
    every (task, period) item exists exactly once."""
    import time_machine

    from tests import factories

    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        service = factories.ServiceFactory(timezone="Europe/Berlin")
        for n in range(10):
            for every in ("daily", "weekly", "monthly", "quarterly"):
                RoutineTaskFactory(service=service, every=every, name=f"{every} {n}")
    with time_machine.travel(NOW, tick=False):
        created = run_together(*[routine_items_create for _ in range(workers)])
        expected = 10 * (11 + 3 + 1 + 1)  # days 14–24 Nov, weeks 46–48, November, Q4
        assert RoutineItem.objects.count() == expected
        keys = Counter(RoutineItem.objects.values_list("task_id", "every", "period_start"))
        assert max(keys.values()) == 1
        assert sum(created) >= expected  # racing inserts may both count a row kept once
        assert routine_items_create() == 0
