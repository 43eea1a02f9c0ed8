"""The outbox under races and crashes: every row is delivered, and delivered once.

The threaded tests need PostgreSQL, whose row locks (``FOR UPDATE SKIP LOCKED``) are what keeps
two workers off the same row; SQLite has no row locks. The crash tests run everywhere.
"""

import threading

import pytest
from django.db import connection

from notifications.models import Notification
from notifications.services import notification_send, notifications_send_due
from tests.notifications.backends import WorkerKilled
from tests.notifications.conftest import make_pending

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*jobs):
    """Start every job at the same moment, each in its own thread with its own connection."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as exc:  # reported in the test's thread, not lost in this one
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    assert not errors, errors
    return results


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
    """A worker killed before its 5th message: 4 rows are committed as sent, 6 stay pending.

    Each row is committed as soon as it is sent, so the next sweep sends only the 6 rows, and
    nothing is sent twice.
    """
    rows = make_pending(10)
    recording_backend.reset(crash_at=5)
    with pytest.raises(WorkerKilled):
        notifications_send_due(batch_size=3)
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 4
    pending = Notification.objects.filter(status=Notification.Status.PENDING)
    assert pending.count() == 6
    # The row in flight was rolled back with its attempt: a crash is not the message's fault.
    assert set(pending.values_list("attempts", flat=True)) == {0}

    assert notifications_send_due(batch_size=3) == 6
    assert_each_sent_once(rows, recording_backend)


def test_a_crash_after_the_mail_server_accepted_resends_only_that_row(recording_backend):
    """What "once" means across a crash: at least once, and at most one extra for the row in flight.

    The mail server has accepted message 5 when the worker dies, before the row's "sent" is
    committed. The database cannot know the message left, so that one row is still pending and
    the next sweep sends it again: the customer may get that single email twice. Every row whose
    "sent" was committed is never sent again, and no row is lost. (The only way to never
    duplicate would be to mark rows sent before sending, which loses mail on a crash.)
    """
    rows = make_pending(10)
    recording_backend.reset(crash_at=5, crash_after_accepting=True)
    with pytest.raises(WorkerKilled):
        notifications_send_due(batch_size=3)
    in_flight = rows[4]
    assert recording_backend.sent[in_flight.subject] == 1
    assert Notification.objects.get(pk=in_flight.pk).status == Notification.Status.PENDING

    assert notifications_send_due(batch_size=3) == 6
    assert recording_backend.sent[in_flight.subject] == 2
    others = {s: n for s, n in recording_backend.sent.items() if s != in_flight.subject}
    assert set(others.values()) == {1}
    assert len(others) == 9
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()
