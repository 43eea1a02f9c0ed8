"""An overdue item emails its owner tier once per person: twice, late, concurrent or crashed."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.delivery import notifications_send_due
from notifications.models import Notification
from routine import reminders
from routine.models import RoutineItem
from routine.reminders import routine_items_remind_overdue
from routine.services import routine_item_complete, routine_items_create
from routine.tasks import remind_overdue_routine_items
from tests import factories
from tests.concurrency import run_together
from tests.notifications.backends import WorkerKilled
from tests.routine.conftest import NOW
from tests.routine.factories import RoutineTaskFactory, routine_staff

# Week 48 of 2026 ends with Sunday 29 November in Berlin: due 29 November 23:00 UTC.
WEEK_DUE = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)


def outbox():
    return list(
        Notification.objects.filter(key__startswith="routine:")
        .order_by("key")
        .values_list("key", "to")
    )


@pytest.fixture
def weekly(clock, make_task, staff):
    make_task(name="Log rotation", every="weekly", tier=2)
    routine_items_create()
    return RoutineItem.objects.get()


@pytest.mark.django_db
def test_nothing_is_sent_before_the_period_ends(weekly, clock):
    clock.move_to(WEEK_DUE - timedelta(seconds=1))
    assert routine_items_remind_overdue() == 0
    assert outbox() == []


@pytest.mark.django_db
def test_an_overdue_item_emails_its_owner_tier_once(weekly, clock, staff, mailoutbox):
    """Tier 2 owns it: its member hears, once, however often the sweep runs; Tier 1 and 3
    do not."""
    other = routine_staff(2, email="second@example.com")
    routine_staff(2, email="")  # no address, nobody to write to
    clock.move_to(WEEK_DUE)
    assert remind_overdue_routine_items() == 2
    assert remind_overdue_routine_items() == 0
    clock.move_to(WEEK_DUE + timedelta(days=3))
    assert routine_items_remind_overdue() == 0
    assert outbox() == [
        (f"routine:{weekly.pk}:overdue:{staff[2].pk}", "tier2@example.com"),
        (f"routine:{weekly.pk}:overdue:{other.pk}", "second@example.com"),
    ]
    weekly.refresh_from_db()
    assert weekly.reminded_at == WEEK_DUE
    notifications_send_due()
    assert sorted(m.to[0] for m in mailoutbox) == ["second@example.com", "tier2@example.com"]
    message = mailoutbox[0]
    assert message.subject == "Overdue: Log rotation — week 48 2026 (ERP)"
    assert "Sun 29 Nov 2026" in message.body
    assert "Europe/Berlin" in message.body
    assert f"/admin/routine/routineitem/{weekly.pk}/change/" in message.body


@pytest.mark.django_db
def test_a_late_sweep_still_reminds_once(weekly, clock):
    clock.move_to(WEEK_DUE + timedelta(days=20))
    assert routine_items_remind_overdue() == 1
    assert routine_items_remind_overdue() == 0


@pytest.mark.django_db
def test_done_items_are_not_reminded(weekly, clock, staff):
    routine_item_complete(item=weekly, by=staff[2], note="rotated")
    clock.move_to(WEEK_DUE + timedelta(days=1))
    assert routine_items_remind_overdue() == 0
    assert outbox() == []


@pytest.mark.django_db
def test_items_of_a_retired_task_are_not_reminded(weekly, clock):
    weekly.task.retired_at = timezone.now()
    weekly.task.save(update_fields=["retired_at"])
    clock.move_to(WEEK_DUE + timedelta(days=1))
    assert routine_items_remind_overdue() == 0


@pytest.mark.django_db
def test_a_tier_without_staff_passes_the_reminder_up(clock, make_task, staff):
    staff[1].groups.clear()
    make_task(name="User feedback review", every="weekly", tier=1)
    routine_items_create()
    clock.move_to(WEEK_DUE)
    routine_items_remind_overdue()
    assert [to for _, to in outbox()] == ["tier2@example.com"]


@pytest.mark.django_db
def test_task_names_are_escaped_in_the_html_part(clock, make_task, staff, mailoutbox):
    make_task(name="Check <script>alert(1)</script> & co", every="weekly", tier=1)
    routine_items_create()
    clock.move_to(WEEK_DUE)
    routine_items_remind_overdue()
    notifications_send_due()
    html = mailoutbox[0].alternatives[0].content
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "Check <script>alert(1)</script> & co" in mailoutbox[0].body  # plain text as written


@pytest.mark.django_db
def test_the_sweep_reads_a_constant_number_of_queries_per_batch(clock, db, staff):
    """5 or 60 overdue items of one batch: the same queries (lock-read, staff once per tier,
    one outbox INSERT, one UPDATE)."""
    service = factories.ServiceFactory(timezone="UTC")

    def sweep_with(count, week):
        for n in range(count):
            RoutineTaskFactory(service=service, name=f"chore {week}-{n}", tier=1 + n % 3)
        routine_items_create()
        clock.move_to(timezone.now() + timedelta(days=7))  # every item now overdue
        with CaptureQueriesContext(connection) as queries:
            routine_items_remind_overdue(batch_size=100)
        return len(queries.captured_queries)

    few = sweep_with(5, 1)
    many = sweep_with(60, 2)  # 60 new tasks' items and the next week's of the first 5
    assert Notification.objects.filter(key__startswith="routine:").count() == 5 + 65
    assert many == few


@pytest.mark.django_db(transaction=True)
def test_a_crash_half_way_rolls_back_and_the_next_run_sends_each_once(monkeypatch):
    """Killed while recording batch 2 of 3: batch 1 stays committed, batch 2 leaves nothing
    (no outbox row, not marked reminded); the next run records the rest, each once."""
    with time_machine.travel(NOW, tick=False):
        for level in (1, 2, 3):
            routine_staff(level, email=f"tier{level}@example.com")
        service = factories.ServiceFactory(timezone="Europe/Berlin")
        for n in range(30):
            RoutineTaskFactory(service=service, name=f"chore {n}", tier=1)
        routine_items_create()
    real = reminders.notifications_create_many
    calls = Counter()

    def dies_on_second_batch(**kwargs):
        calls["n"] += 1
        real(**kwargs)  # written, but on the second batch the transaction never commits
        if calls["n"] == 2:
            raise WorkerKilled("killed in batch 2")

    monkeypatch.setattr(reminders, "notifications_create_many", dies_on_second_batch)
    with time_machine.travel(WEEK_DUE, tick=False):
        with pytest.raises(WorkerKilled):
            routine_items_remind_overdue(batch_size=10)
        assert len(outbox()) == 10
        assert RoutineItem.objects.filter(reminded_at__isnull=False).count() == 10
        monkeypatch.setattr(reminders, "notifications_create_many", real)
        assert routine_items_remind_overdue(batch_size=10) == 20
        assert routine_items_remind_overdue(batch_size=10) == 0
    keys = [key for key, _ in outbox()]
    assert len(keys) == len(set(keys)) == 30


@pytest.mark.django_db
def test_an_item_whose_mark_was_lost_is_not_emailed_twice(weekly, clock):
    """The outbox key is per item and recipient: even if an item is swept again (its marker
    reset by hand, say), the same person is not written to twice."""
    clock.move_to(WEEK_DUE)
    routine_items_remind_overdue()
    RoutineItem.objects.update(reminded_at=None)
    routine_items_remind_overdue()
    assert len(outbox()) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_sweeps_record_each_reminder_exactly_once(workers):
    """2 or 4 sweeps at the same moment over 300 overdue items and two recipients each:
    600 reminders, each recorded once, and the sweeps' counts add up to 600."""
    with time_machine.travel(NOW, tick=False):
        for level in (1, 2, 3):
            routine_staff(level, email=f"tier{level}@example.com")
            routine_staff(level, email=f"tier{level}b@example.com")
        service = factories.ServiceFactory(timezone="Europe/Berlin")
        RoutineTaskFactory._meta.model.objects.bulk_create(
            RoutineTaskFactory.build(service=service, name=f"chore {n}", tier=1 + n % 3)
            for n in range(300)
        )
        routine_items_create()
    with time_machine.travel(WEEK_DUE, tick=False):
        recorded = run_together(
            *[lambda: routine_items_remind_overdue(batch_size=25) for _ in range(workers)]
        )
    assert sum(recorded) == 600
    keys = Counter(Notification.objects.filter(key__startswith="routine:").values_list("key"))
    assert len(keys) == 600 and max(keys.values()) == 1
    assert not RoutineItem.objects.filter(reminded_at__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_sweep_reads_through_the_partial_index_of_items_to_remind(weekly):
    """The sweep's read matches the partial index's condition, so PostgreSQL can serve it
    from the index of open, unreminded items, never touching done ones (with sequential
    scans off, the plan names the index)."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = reminders.items_to_remind(now=WEEK_DUE).explain()
    assert "routine_item_remind_due" in plan
