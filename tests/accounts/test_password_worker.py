"""Password reset end to end: a real Celery worker on Redis records the email after the
request, the outbox delivers it; with the broker down the request still answers and the email
is recorded for the sweep.

The worker runs in a thread of this process, so it reads the test database through its own
connection: hence ``transaction=True``.
"""

import logging
import time

import pytest
from django.urls import reverse

from notifications.models import Notification
from tests import factories
from tests.notifications import test_celery_worker as celery_worker

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

# The outbox tests' real worker and broker outage, shared rather than copied.
worker = celery_worker.worker
broker_down = celery_worker.broker_down


def wait_for_mail(mailoutbox, count):
    deadline = time.monotonic() + celery_worker.WAIT
    while time.monotonic() < deadline:
        if len(mailoutbox) >= count:
            return
        time.sleep(0.1)
    pytest.fail(f"{count} email(s) not delivered within {celery_worker.WAIT} s")


def test_the_worker_records_and_sends_the_reset_email(worker, client, mailoutbox):
    """The request hands the address to the worker, which records the owner's reset email in
    the outbox and delivers it; an unknown address makes no email at all."""
    factories.CustomerFactory(email="owner@example.com")
    for email in ("ghost@example.com", "Owner@example.com"):
        response = client.post(reverse("password_reset"), {"email": email})
        assert response.status_code == 302
    # The worker (one, solo) takes tasks in order: by the owner's email, the ghost's is done.
    wait_for_mail(mailoutbox, 1)
    assert [message.to for message in mailoutbox] == [["owner@example.com"]]
    assert Notification.objects.get().status == Notification.Status.SENT


def test_with_the_broker_down_the_reset_is_recorded_for_the_sweep(
    broker_down, client, mailoutbox, caplog
):
    """When the task cannot be enqueued the page still answers, and the email is recorded in
    the outbox at once (pending) rather than lost: beat's sweep delivers it."""
    factories.CustomerFactory(email="owner@example.com")
    with caplog.at_level(logging.WARNING, logger="accounts.services"):
        response = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert "Could not enqueue a password reset" in caplog.text
    notification = Notification.objects.get()
    assert notification.to == "owner@example.com"
    assert notification.status == Notification.Status.PENDING
    assert mailoutbox == []
