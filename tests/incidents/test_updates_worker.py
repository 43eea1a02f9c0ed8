"""A public update's emails end to end: staff save in admin, a real Celery worker on Redis
records the emails after commit, the outbox delivers them; with the broker down the save still
succeeds at once and beat's sweep records them when it is back.

The worker runs in a thread of this process (``tests.notifications.test_celery_worker``), so
it reads the test database through its own connection: hence ``transaction=True``.
"""

import logging
import time

import pytest
from django.urls import reverse

from incidents.models import IncidentUpdate
from incidents.tasks import send_incident_updates
from maintenance.models import Subscription
from notifications.models import Notification
from notifications.tasks import send_pending_notifications
from tests.incidents.admin_forms import page_data
from tests.incidents.conftest import NOW
from tests.notifications import test_celery_worker as celery_worker

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

SUBSCRIBERS = 30

# The outbox tests' real worker and broker outage, shared rather than copied.
worker = celery_worker.worker
broker_down = celery_worker.broker_down


@pytest.fixture
def incident(service, open_incident):
    Subscription.objects.bulk_create(
        Subscription(service=service, email=f"s{n}@example.com", confirmed_at=NOW)
        for n in range(SUBSCRIBERS)
    )
    return open_incident()


def post_update(client, staff, incident, body):
    client.force_login(staff)
    url = reverse("admin:incidents_incident_change", args=[incident.pk])
    data = page_data(client.get(url), public_update=body)
    started = time.monotonic()
    response = client.post(url, data)
    assert response.status_code == 302
    return time.monotonic() - started


def wait_until_recorded(update):
    deadline = time.monotonic() + celery_worker.WAIT
    while time.monotonic() < deadline:
        update.refresh_from_db()
        if not update.emails_pending:
            return update
        time.sleep(0.1)
    pytest.fail(f"the emails of update {update.pk} were not recorded within the wait")


def test_the_worker_records_the_emails_after_the_admin_save(
    worker, client, staff, incident, mailoutbox
):
    """Save → commit → task on Redis → the worker records one email per subscriber; the
    outbox sends each once."""
    post_update(client, staff, incident, "We are rolling back.")
    update = wait_until_recorded(IncidentUpdate.objects.get())
    assert update.emails_recorded == SUBSCRIBERS
    assert worker.result(send_incident_updates.delay()) == 0  # nothing left for beat
    worker.result(send_pending_notifications.delay())
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        f"s{n}@example.com" for n in range(SUBSCRIBERS)
    )


def test_broker_down_at_the_save_then_beat_records_the_emails_once_it_is_back(
    worker, broker_down, client, staff, incident, caplog
):
    with caplog.at_level(logging.WARNING, logger="incidents.services.updates"):
        elapsed = post_update(client, staff, incident, "Looking into it.")
    assert elapsed < 5, f"the save took {elapsed:.1f} s with the broker down"
    assert "Could not enqueue the emails of incident update" in caplog.text
    update = IncidentUpdate.objects.get()
    assert update.emails_pending and not Notification.objects.exists()

    broker_down()  # the broker is back
    assert worker.result(send_incident_updates.delay()) == SUBSCRIBERS
    assert worker.result(send_incident_updates.delay()) == 0
    assert Notification.objects.filter(key__startswith="incident-update:").count() == SUBSCRIBERS
