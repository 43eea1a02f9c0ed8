import logging
import math
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications.delivery import notification_send, notifications_send_due
from notifications.models import Notification
from notifications.services import notification_create, notification_retry
from tests.notifications.backends import UnreachableBackend
from tests.notifications.conftest import make_pending

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAILING = "tests.notifications.backends.FailingBackend"


def create(key="greeting:1", to="ada@example.com", **context):
    return notification_create(
        key=key,
        to=to,
        template="outbox_tests/hello",
        context={"name": "Ada", "topic": "backups", **context},
    )


@pytest.mark.usefixtures("outbox_templates", "eager_tasks")
def test_the_same_key_twice_records_one_row_and_sends_one_email(
    django_capture_on_commit_callbacks, mailoutbox
):
    """Code that records an event twice (a retried request, a re-run job) mails once."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = create()
        second = create(topic="something else")
    assert first.pk == second.pk
    assert Notification.objects.count() == 1
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Hello Ada: backups"
    assert message.alternatives[0].content == "<p>Hello Ada,</p><p>About backups</p>\n"
    assert Notification.objects.get().status == Notification.Status.SENT


@pytest.mark.usefixtures("outbox_templates", "eager_tasks")
def test_a_rolled_back_event_records_and_sends_nothing(
    django_capture_on_commit_callbacks, mailoutbox
):
    """The row is written in the event's transaction: no event, no email."""
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        create()
        raise RuntimeError("the event failed after recording its email")
    assert not Notification.objects.exists()
    assert callbacks == []
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("outbox_templates", "eager_tasks")
def test_a_rolled_back_transaction_sends_nothing_with_real_commits(mailoutbox):
    """The same with a real database transaction: on_commit never fires after a rollback."""
    with pytest.raises(RuntimeError), transaction.atomic():
        create()
        raise RuntimeError("rolled back")
    assert not Notification.objects.exists()
    assert mailoutbox == []
    create()  # and a committed one is sent at once
    assert len(mailoutbox) == 1


@pytest.mark.usefixtures("outbox_templates")
def test_text_parts_are_not_html_escaped_but_the_html_part_is():
    """A subject "R&D <ops>" reads as typed in the subject and text, and escaped in HTML."""
    notification = create(topic="R&D <ops>")
    assert notification.subject == "Hello Ada: R&D <ops>"
    assert "About R&D <ops>: http://testserver/x" in notification.body_text
    assert "R&amp;D &lt;ops&gt;" in notification.body_html


def test_notification_send_sends_once(mailoutbox):
    """A second delivery of the same row (a redelivered task) sends nothing."""
    [notification] = make_pending(1)
    with time_machine.travel(NOW, tick=False):
        assert notification_send(notification_id=notification.pk) is True
    assert notification_send(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.sent_at == NOW
    assert notification.attempts == 1


def test_a_missing_row_is_not_an_error(mailoutbox):
    assert notification_send(notification_id=987654) is False
    assert mailoutbox == []


def test_a_failed_send_is_recorded_and_retried_with_backoff(settings, caplog):
    """Each failure counts an attempt, keeps the error and waits twice as long as before."""
    settings.EMAIL_BACKEND = FAILING
    [notification] = make_pending(1)
    with time_machine.travel(NOW, tick=False):
        assert notification_send(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 1
    assert notification.last_error == "ConnectionRefusedError: mail server says no"
    assert notification.next_attempt_at == NOW + timedelta(minutes=2)

    later = NOW + timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        assert notifications_send_due() == 0
    notification.refresh_from_db()
    assert notification.attempts == 2
    assert notification.next_attempt_at == later + timedelta(minutes=4)
    assert [r.levelno for r in caplog.records if r.name == "notifications.delivery"] == [
        logging.WARNING,
        logging.WARNING,
    ]


def test_the_backoff_is_capped_at_an_hour(settings):
    settings.EMAIL_BACKEND = FAILING
    settings.NOTIFICATION_MAX_ATTEMPTS = 100
    [notification] = make_pending(1, attempts=60)
    with time_machine.travel(NOW, tick=False):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.next_attempt_at == NOW + timedelta(hours=1)


def test_after_the_last_attempt_the_row_is_failed_and_logged_at_error(settings, caplog):
    """Nothing is dropped silently: the give-up is an ERROR naming the notification."""
    settings.EMAIL_BACKEND = FAILING
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    [notification] = make_pending(1, key="ticket:7:received")
    for _ in range(3):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == 3
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "ticket:7:received" in errors[0].getMessage()
    # A failed row is out of the sweep's way.
    assert notifications_send_due(now=NOW + timedelta(days=1)) == 0


@pytest.mark.usefixtures("eager_tasks")
def test_retry_puts_a_failed_notification_back_and_it_is_sent(
    settings, django_capture_on_commit_callbacks, mailoutbox
):
    """Staff retry a failed row: it gets a fresh set of attempts and goes out after commit."""
    [notification] = make_pending(
        1, status=Notification.Status.FAILED, attempts=8, last_error="boom"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert notification_retry(notification=notification) is True
    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 0
    assert mailoutbox == []
    callbacks[0]()  # the commit enqueues the delivery task
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT


@pytest.mark.usefixtures("eager_tasks")
def test_retry_leaves_a_sent_notification_alone(django_capture_on_commit_callbacks, mailoutbox):
    """Retrying a selection that includes sent rows never mails them again."""
    [notification] = make_pending(1, status=Notification.Status.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry(notification=notification) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert mailoutbox == []


def test_the_sweep_sends_only_due_pending_rows(mailoutbox):
    with time_machine.travel(NOW, tick=False):
        due = make_pending(2, due=NOW - timedelta(hours=1), prefix="due")
        make_pending(1, due=NOW, prefix="due")  # due this very moment
        make_pending(1, due=NOW + timedelta(seconds=1), prefix="later")
        make_pending(1, prefix="sent", status=Notification.Status.SENT)
        make_pending(1, prefix="failed", status=Notification.Status.FAILED)
        assert notifications_send_due() == 3
    assert sorted(m.subject for m in mailoutbox) == sorted(
        [due[0].subject, due[1].subject, "due subject 2"]
    )
    assert Notification.objects.filter(status=Notification.Status.PENDING).count() == 1


def test_the_sweep_works_through_every_batch(mailoutbox):
    """batch_size bounds one read, not the sweep: 7 rows in batches of 3 are all sent."""
    make_pending(7)
    assert notifications_send_due(batch_size=3) == 7
    assert len(mailoutbox) == 7
    assert not Notification.objects.filter(status=Notification.Status.PENDING).exists()


def test_the_sweep_stops_when_the_mail_server_is_unreachable(settings):
    """One connect failure ends the sweep: the other rows keep their attempts for next time."""
    settings.EMAIL_BACKEND = "tests.notifications.backends.UnreachableBackend"
    UnreachableBackend.opened = 0
    make_pending(5)
    assert notifications_send_due() == 0
    assert UnreachableBackend.opened == 1
    attempts = sorted(Notification.objects.values_list("attempts", flat=True))
    assert attempts == [0, 0, 0, 0, 1]
    assert Notification.objects.filter(status=Notification.Status.PENDING).count() == 5


def _sweep_queries(rows, *, batch_size, noise=0):
    Notification.objects.all().delete()
    make_pending(rows, due=NOW - timedelta(minutes=1))
    # Rows the sweep must not pay for: long sent, and not due yet.
    make_pending(noise, prefix="old", status=Notification.Status.SENT)
    make_pending(noise, prefix="future", due=NOW + timedelta(days=1))
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        assert notifications_send_due(batch_size=batch_size) == rows
    group_read = 'SELECT "notifications_notification"."id"'
    reads = [q for q in queries if q["sql"].startswith(group_read)]
    return len(queries), len(reads)


@pytest.mark.usefixtures("mailoutbox")
def test_the_sweep_does_a_bounded_number_of_queries():
    """Queries grow with the groups sent, not with the rows or the table.

    Rows are locked, sent and committed a group of ``batch_size`` at a time: a read that locks
    the group and one UPDATE marking its sent rows, plus the transaction's own statements.
    (Before, each row was committed on its own at ~4 queries a row; the group commit trades
    that for a crash re-sending at most one group, see test_concurrency.)
    """
    # savepoint/BEGIN, (PostgreSQL: SET LOCAL enable_sort), SELECT … FOR UPDATE SKIP LOCKED,
    # UPDATE, release
    per_group_ceiling = 5
    for rows, batch_size in [(10, 3), (40, 3), (40, 50), (400, 100)]:
        total, reads = _sweep_queries(rows, batch_size=batch_size, noise=50)
        groups = math.ceil((rows + 1) / batch_size)  # the last, short or empty, read ends it
        assert reads == groups
        assert total <= per_group_ceiling * groups
    # The table around the due rows changes nothing.
    assert _sweep_queries(10, batch_size=50, noise=0) == _sweep_queries(
        10, batch_size=50, noise=200
    )


def test_create_many_records_each_key_once_and_enqueues_one_sweep(
    django_capture_on_commit_callbacks,
):
    """Bulk recording skips keys already present, and asks for one sweep, not a task per row."""
    from notifications.models import Notification
    from notifications.services import OutboxEmail, notifications_create_many

    emails = [
        OutboxEmail(key=f"bulk:{i}", to=f"p{i}@example.com", subject="Hi\nthere", body_text="x")
        for i in range(5)
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        notifications_create_many(emails=emails[:3])
    with django_capture_on_commit_callbacks():
        notifications_create_many(emails=emails)
    assert Notification.objects.filter(key__startswith="bulk:").count() == 5
    assert Notification.objects.get(key="bulk:0").subject == "Hi there"
    assert len(callbacks) == 1


@pytest.mark.usefixtures("outbox_templates")
def test_recording_is_one_statement_and_a_taken_key_returns_the_first_row():
    """``notification_create`` writes with one ``INSERT … ON CONFLICT DO NOTHING`` (no
    savepoint, no read first: every ticket email pays for it); the same key again changes
    nothing and returns the row recorded first, as it was."""
    with CaptureQueriesContext(connection) as queries:
        first = create()
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["INSERT"]
    second = create(topic="something else")
    assert second.pk == first.pk
    assert second.subject == first.subject == "Hello Ada: backups"
    assert Notification.objects.get().subject == "Hello Ada: backups"
