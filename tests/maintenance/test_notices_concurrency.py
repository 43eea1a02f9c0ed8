"""Notices under races and crashes: each (occurrence, lead, recipient) recorded exactly once.

Threads need PostgreSQL (row locks: ``FOR UPDATE SKIP LOCKED`` on the round, ``ON CONFLICT DO
NOTHING`` on deliveries and outbox keys); the crash test runs everywhere.
"""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine

from maintenance import notices
from maintenance.models import NoticeDelivery, NoticeRound
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests.maintenance.conftest import SUNDAY, make_policy, make_window, subscribe_customers
from tests.notifications.backends import WorkerKilled
from tests.notifications.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIBERS = 2000
DUE = SUNDAY - timedelta(hours=47)


@pytest.fixture
def occurrence(service):
    make_policy(service)
    window = make_window(service)
    subscribe_customers(service, SUBSCRIBERS)
    return window


def assert_each_recorded_once(count=SUBSCRIBERS):
    outbox = list(Notification.objects.filter(key__startswith="maint:").values_list("key", "to"))
    assert len(outbox) == count
    assert max(Counter(to for _, to in outbox).values()) == 1
    assert NoticeDelivery.objects.count() == count
    assert NoticeRound.objects.get().status == NoticeRound.Status.DONE


@pytest.mark.postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_sweeps_record_each_notice_exactly_once(occurrence, workers):
    """2 or 4 sweeps at the same moment over one occurrence with 2,000 subscribers: every
    subscriber's notice is recorded once, and the sweeps' counts add up to 2,000."""
    with time_machine.travel(DUE, tick=False):
        recorded = run_together(
            *[lambda: notices.notices_send_due(batch_size=100) for _ in range(workers)]
        )
    assert sum(recorded) == SUBSCRIBERS
    assert_each_recorded_once()


@pytest.mark.postgres
def test_concurrent_notice_and_outbox_sweeps_deliver_each_email_once(occurrence, recording_backend):
    """Notice sweeps and outbox sweeps racing: each subscriber's email reaches the mail server
    once."""
    with time_machine.travel(DUE, tick=False):
        run_together(
            lambda: notices.notices_send_due(batch_size=250),
            lambda: notices.notices_send_due(batch_size=250),
            lambda: notifications_send_due(batch_size=100),
            lambda: notifications_send_due(batch_size=100),
        )
        run_together(
            lambda: notifications_send_due(batch_size=100),
            lambda: notifications_send_due(batch_size=100),
        )
    assert sum(recording_backend.sent.values()) == SUBSCRIBERS
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()


def test_a_crash_half_way_is_finished_by_the_next_run_without_duplicates(occurrence, monkeypatch):
    """Killed while recording batch 3 of 4: batches 1–2 stay committed, batch 3 rolls back
    whole; the next run starts at the committed cursor and records the other 1,000, once."""
    real = notices.notifications_insert_many
    calls = Counter()

    def dies_on_third_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            real(**kwargs)  # written, but the transaction never commits
            raise WorkerKilled("killed in batch 3")
        return real(**kwargs)

    monkeypatch.setattr(notices, "notifications_insert_many", dies_on_third_batch)
    with time_machine.travel(DUE, tick=False):
        with pytest.raises(WorkerKilled):
            notices.notices_send_due(batch_size=500)
        assert Notification.objects.filter(key__startswith="maint:").count() == 1000
        assert NoticeDelivery.objects.count() == 1000
        assert NoticeRound.objects.get().status == NoticeRound.Status.PENDING
        assert notices.notices_send_due(batch_size=500) == 1000
        assert notices.notices_send_due(batch_size=500) == 0
    assert_each_recorded_once()
