"""A public update's emails under races and crashes, on PostgreSQL: each (update, address)
recorded once.

The update's task and the beat sweep may run at the same moment, twice, or after a worker died
between two batches; the row lock on the update (``FOR UPDATE SKIP LOCKED``), the cursor
committed with each batch and the outbox's unique keys (``ON CONFLICT DO NOTHING``) keep every
subscriber at one email.
"""

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine

from incidents import fanout, services
from incidents.models import IncidentUpdate
from incidents.tasks import send_incident_update, send_incident_updates
from maintenance.models import Subscription
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tests.concurrency import run_together
from tests.incidents.conftest import NOW
from tests.incidents.factories import IncidentPolicyFactory
from tests.notifications.backends import WorkerKilled

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CONFIRMED = datetime(2026, 12, 1, tzinfo=UTC)
SUBSCRIBERS = 400
BATCH = 50


@pytest.fixture
def incident(service):
    IncidentPolicyFactory(service=service)
    severity = factories.PriorityFactory(service=service, code="P0")
    staff = factories.StaffFactory()
    Subscription.objects.bulk_create(
        Subscription(service=service, email=f"s{n}@example.com", confirmed_at=CONFIRMED)
        for n in range(SUBSCRIBERS)
    )
    publisher = factories.StaffFactory(tier=2)
    with time_machine.travel(NOW, tick=False):
        opened = services.incident_open(service=service, severity=severity, title="Down", by=staff)
        # Published: a draft's public updates are held, not emailed (test_publishing.py).
        return services.incident_publish(incident=opened, by=publisher)


def recipients_per_update():
    keys = Notification.objects.filter(key__startswith="incident-update:")
    return Counter(key.split(":")[1] for key in keys.values_list("key", flat=True))


def assert_each_recorded_once(*updates, count=SUBSCRIBERS):
    keys = list(Notification.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == count * len(updates)
    assert recipients_per_update() == Counter({str(update.pk): count for update in updates})
    for update in updates:
        update.refresh_from_db()
        assert (update.emails_pending, update.emails_recorded) == (False, count)


def test_the_task_and_sweeps_at_once_record_each_subscriber_once(incident):
    """The update's own task and three sweeps start at the same moment, batches of 50: each
    subscriber is recorded once, and the runs' counts add up to the subscribers."""
    update = services.incident_post_update(
        incident=incident, body="Rolling back", public=True, by=incident.owner
    )
    recorded = run_together(
        lambda: fanout.update_emails_record(update_id=update.pk, batch_size=BATCH),
        *[lambda: fanout.update_emails_send_pending(batch_size=BATCH) for _ in range(3)],
    )
    # A run that finds the update locked leaves it to the one holding it, which goes on: when
    # they are all back, it is done, and a sweep after them finds nothing.
    assert sum(recorded) == SUBSCRIBERS
    assert send_incident_updates() == 0
    assert_each_recorded_once(update)


def test_a_sweep_finding_the_update_in_a_batch_moves_on_without_waiting(incident, monkeypatch):
    """While a worker is inside batch 2 (holding the update's row), a sweep in another
    connection skips it at once instead of queueing behind the lock, and records nothing; the
    worker finishes the rest. (Were the sweep to wait, this test would hang: the worker waits
    for the sweep's thread.)"""
    update = services.incident_post_update(
        incident=incident, body="Rolling back", public=True, by=incident.owner
    )
    real = fanout._record_batch
    during = []

    def batch(update, batch_size):
        if update.emails_cursor and not during:
            during.extend(
                run_together(
                    lambda: fanout.update_emails_send_pending(batch_size=BATCH), timeout=20
                )
            )
        return real(update, batch_size)

    monkeypatch.setattr(fanout, "_record_batch", batch)
    assert fanout.update_emails_record(update_id=update.pk, batch_size=BATCH) == SUBSCRIBERS
    assert during == [0]
    assert_each_recorded_once(update)


def test_two_staff_posting_at_once_then_racing_sweeps_email_each_update_once(incident):
    other = factories.StaffFactory()
    run_together(
        lambda: services.incident_post_update(
            incident=incident, body="Looking", public=True, by=incident.owner
        ),
        lambda: services.incident_post_update(
            incident=incident, body="Found it", public=True, by=other
        ),
    )
    assert not Notification.objects.exists()  # posting records nothing
    recorded = run_together(
        *[lambda: fanout.update_emails_send_pending(batch_size=BATCH) for _ in range(2)]
    )
    assert sum(recorded) == 2 * SUBSCRIBERS
    assert send_incident_updates() == 0
    assert_each_recorded_once(*IncidentUpdate.objects.all())


def test_a_crash_between_batches_is_resumed_at_the_cursor_without_duplicates(incident, monkeypatch):
    """Killed in batch 3 of 8, after its outbox rows were written and before commit: batches 1–2
    stay recorded, batch 3 rolls back whole (its rows and its cursor); the next run starts at
    the committed cursor and records the other 300, once; a third run records nothing."""
    update = services.incident_post_update(
        incident=incident, body="Rolling back", public=True, by=incident.owner
    )
    real = fanout.notifications_insert_many
    calls = Counter()

    def dies_in_third_batch(**kwargs):
        calls["n"] += 1
        result = real(**kwargs)  # written, but the transaction never commits
        if calls["n"] == 3:
            raise WorkerKilled("killed in batch 3")
        return result

    monkeypatch.setattr(fanout, "notifications_insert_many", dies_in_third_batch)
    with pytest.raises(WorkerKilled):
        fanout.update_emails_send_pending(batch_size=BATCH)
    update.refresh_from_db()
    assert Notification.objects.count() == 2 * BATCH
    assert update.emails_pending and update.emails_recorded == 2 * BATCH
    ids = list(Subscription.objects.order_by("pk").values_list("pk", flat=True))
    assert update.emails_cursor == ids[2 * BATCH - 1]

    monkeypatch.setattr(fanout, "notifications_insert_many", real)
    assert fanout.update_emails_send_pending(batch_size=BATCH) == SUBSCRIBERS - 2 * BATCH
    assert fanout.update_emails_send_pending(batch_size=BATCH) == 0
    assert send_incident_update(update.pk) == 0
    assert_each_recorded_once(update)


def test_a_crash_in_the_first_batch_leaves_nothing_half_done(incident, monkeypatch):
    """Killed in the first batch: not even the stored content or the members' subscriptions
    made for it remain; the next run does it all, once."""
    customer = factories.CustomerFactory(services=[incident.service])  # no subscription yet
    update = services.incident_post_update(
        incident=incident, body="Rolling back", public=True, by=incident.owner
    )
    real = fanout.notifications_insert_many

    def dies(**kwargs):
        real(**kwargs)
        raise WorkerKilled("killed in batch 1")

    monkeypatch.setattr(fanout, "notifications_insert_many", dies)
    with pytest.raises(WorkerKilled):
        send_incident_update(update.pk)
    update.refresh_from_db()
    assert (update.emails_cursor, update.emails_body_id, update.emails_pending) == (0, None, True)
    assert not Notification.objects.exists()
    assert not Subscription.objects.filter(user=customer).exists()

    monkeypatch.setattr(fanout, "notifications_insert_many", real)
    assert send_incident_updates() == SUBSCRIBERS + 1
    assert_each_recorded_once(update, count=SUBSCRIBERS + 1)


@pytest.fixture
def recording_backend(settings):
    """A mail server that counts each accepted message (tests.notifications.backends)."""
    from tests.notifications.backends import RecordingBackend

    RecordingBackend.reset()
    settings.EMAIL_BACKEND = "tests.notifications.backends.RecordingBackend"
    yield RecordingBackend
    RecordingBackend.reset()


def test_fan_out_and_outbox_sweeps_racing_deliver_each_email_once(incident, recording_backend):
    """Recording and delivering at the same time: each subscriber's email reaches the mail
    server once."""
    services.incident_post_update(
        incident=incident, body="Rolling back", public=True, by=incident.owner
    )
    run_together(
        lambda: fanout.update_emails_send_pending(batch_size=BATCH),
        lambda: fanout.update_emails_send_pending(batch_size=BATCH),
        lambda: notifications_send_due(batch_size=40),
        lambda: notifications_send_due(batch_size=40),
    )
    assert send_incident_updates() == 0
    run_together(
        lambda: notifications_send_due(batch_size=40),
        lambda: notifications_send_due(batch_size=40),
    )
    assert sum(recording_backend.sent.values()) == SUBSCRIBERS
    assert not Notification.objects.exclude(status=Notification.Status.SENT).exists()
