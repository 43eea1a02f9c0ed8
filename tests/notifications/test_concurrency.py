"""The outbox under races and crashes: every row is delivered, and delivered once.

The threaded tests need PostgreSQL, whose row locks (``FOR UPDATE SKIP LOCKED``) are what keeps
two workers off the same row; SQLite has no row locks. The crash tests run everywhere.
"""

import pytest

from notifications.delivery import notification_send, notifications_send_due
from notifications.models import Notification
from tests.concurrency import run_together
from tests.notifications.backends import WorkerKilled
from tests.notifications.conftest import make_pending

pytestmark = pytest.mark.django_db(transaction=True)


def assert_each_sent_once(rows, backend):
    subjects = {row.subject for row in rows}
    assert set(backend.sent) == subjects
    duplicates = {subject: n for subject, n in backend.sent.items() if n != 1}
    assert duplicates == {}
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_sweeps_send_every_row_exactly_once(recording_backend, workers):
    """Sweeps started at the same moment share 200 due rows: none is missed, none is doubled."""
    rows = make_pending(200)
    sent = run_together(*[lambda: notifications_send_due(batch_size=20) for _ in range(workers)])
    assert sum(sent) == 200
    assert_each_sent_once(rows, recording_backend)


@pytest.mark.postgres
def test_the_per_row_tasks_racing_the_sweep_send_every_row_exactly_once(recording_backend):
    """The after-commit tasks and a beat sweep that fire together never both send a row.

    Two "task" threads walk the rows from both ends while two sweeps run.
    """
    rows = make_pending(200)
    ids = [row.pk for row in rows]

    def tasks(order):
        return sum(notification_send(notification_id=pk) for pk in order)

    sent = run_together(
        lambda: tasks(ids),
        lambda: tasks(reversed(ids)),
        lambda: notifications_send_due(batch_size=25),
        lambda: notifications_send_due(batch_size=25),
    )
    assert sum(sent) == 200
    assert_each_sent_once(rows, recording_backend)


def test_a_crash_half_way_leaves_the_rest_pending_and_the_next_sweep_finishes(
    recording_backend,
):
    """A worker killed before its 5th message, in groups of 3: group 1 (rows 1–3) is committed
    as sent; group 2 (rows 4–6) rolls back whole, so 7 rows stay pending, attempts untouched.

    The next sweep sends those 7. Row 4, accepted by the mail server before the crash but in
    the rolled-back group, goes out a second time: the bound is the group in flight.
    """
    rows = make_pending(10)
    recording_backend.reset(crash_at=5)
    with pytest.raises(WorkerKilled):
        notifications_send_due(batch_size=3)
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 3
    pending = Notification.objects.filter(status=Notification.Status.PENDING)
    assert pending.count() == 7
    # The group in flight was rolled back with its attempts: a crash is not the message's fault.
    assert set(pending.values_list("attempts", flat=True)) == {0}

    assert notifications_send_due(batch_size=3) == 7
    assert recording_backend.sent[rows[3].subject] == 2
    others = {s: n for s, n in recording_backend.sent.items() if s != rows[3].subject}
    assert set(others.values()) == {1} and len(others) == 9
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()


def test_a_crash_after_the_mail_server_accepted_resends_at_most_the_group_in_flight(
    recording_backend,
):
    """What "once" means across a crash: at least once, and at most one group's worth extra.

    The sweep sends in groups of ``batch_size`` rows committed together (one UPDATE per group
    instead of a commit per row, which is what makes 100,000 notices fast). The mail server has
    accepted messages 4 and 5 of group 2 when the worker dies, before the group's "sent" is
    committed. The database cannot know they left, so the whole group is still pending and the
    next sweep sends 4 and 5 again: at most ``batch_size`` duplicates per crash. Every row of a
    committed group is never sent again, and no row is lost. (The only way to never duplicate
    would be to mark rows sent before sending, which loses mail on a crash.)
    """
    rows = make_pending(10)
    recording_backend.reset(crash_at=5, crash_after_accepting=True)
    with pytest.raises(WorkerKilled):
        notifications_send_due(batch_size=3)
    in_flight = rows[3:5]
    assert all(recording_backend.sent[row.subject] == 1 for row in in_flight)
    assert {Notification.objects.get(pk=row.pk).status for row in in_flight} == {
        Notification.Status.PENDING
    }

    assert notifications_send_due(batch_size=3) == 7
    duplicated = {s for s, n in recording_backend.sent.items() if n > 1}
    assert duplicated == {row.subject for row in in_flight}
    assert len(duplicated) < 3  # never more than the group in flight
    assert set(recording_backend.sent.values()) <= {1, 2}
    assert len(recording_backend.sent) == 10
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()


def test_the_per_row_task_still_resends_at_most_its_own_row(recording_backend):
    """The after-commit task sends one row per transaction: a crash after the server accepted
    it re-sends only that row."""
    rows = make_pending(2)
    recording_backend.reset(crash_at=1, crash_after_accepting=True)
    with pytest.raises(WorkerKilled):
        notification_send(notification_id=rows[0].pk)
    assert notification_send(notification_id=rows[0].pk) is True
    assert recording_backend.sent[rows[0].subject] == 2
    assert Notification.objects.get(pk=rows[1].pk).status == Notification.Status.PENDING
