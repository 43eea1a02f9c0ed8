"""The outbox end to end: a real Celery worker on Redis, a customer submitting through the site.

The worker runs in a thread of this process (``celery.contrib.testing``), so what it mails lands
in ``mailoutbox``, and it reads the test database through its own connection: hence
``transaction=True`` and committed rows.
"""

import logging
import socket
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection
from django.urls import reverse

from notifications.models import Notification
from notifications.tasks import send_pending_notifications
from portal.celery import app
from tests import factories

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

# Nothing listens here: a broker that is down.
UNREACHABLE_BROKER = "redis://127.0.0.1:6390/0"
WAIT = 20  # seconds, the most any wait below may take


class FinishedTasks:
    """What the worker has run, with return values (the app ignores results, so no backend)."""

    def __init__(self):
        self.done = {}
        self.condition = threading.Condition()

    def on_postrun(self, task_id=None, retval=None, **kwargs):
        # The worker thread's connection must not outlive the test (it would block the test
        # database's teardown); closing it after each task costs a reconnect, nothing more.
        connection.close()
        with self.condition:
            self.done[task_id] = retval
            self.condition.notify_all()

    def result(self, async_result):
        with self.condition:
            finished = self.condition.wait_for(lambda: async_result.id in self.done, WAIT)
        assert finished, f"the worker did not run {async_result.id} within {WAIT} s"
        return self.done[async_result.id]


@pytest.fixture
def worker():
    """A real worker consuming from the Redis in CELERY_BROKER_URL, stopped after the test."""
    finished = FinishedTasks()
    task_postrun.connect(finished.on_postrun, weak=False)
    hijack = app.conf.worker_hijack_root_logger
    app.conf.worker_hijack_root_logger = False  # keep pytest's log capture working
    app.control.purge()  # messages left by an earlier, interrupted run
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=15
        ):
            yield finished
    finally:
        task_postrun.disconnect(finished.on_postrun)
        app.conf.worker_hijack_root_logger = hijack


def _publish_to(url):
    """Point publishing (only: the worker keeps its connection) at ``url``.

    ``broker_write_url``, because ``broker_url`` would lose to the CELERY_BROKER_URL environment
    variable. The app caches its producer pool and kombu keeps one pool per URL, so dropping the
    cache is enough for the next publish to use ``url``.
    """
    app.conf.broker_write_url = url
    app.amqp._producer_pool = None
    app._pool = None


@pytest.fixture
def broker_down():
    """A broker that is down, the way a Redis outage looks to the web. Call it to end it."""
    original = app.conf.get("broker_write_url")
    _publish_to(UNREACHABLE_BROKER)
    try:
        yield lambda: _publish_to(original)
    finally:
        _publish_to(original)


@pytest.fixture
def broker_hung():
    """A broker that accepts connections and never answers (a stuck Redis, a dead proxy)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # the kernel completes the handshakes; nobody ever reads
    original = app.conf.get("broker_write_url")
    _publish_to(f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
    try:
        yield
    finally:
        _publish_to(original)
        listener.close()


@pytest.fixture
def customer_client(client, service, priority, customer):
    client.force_login(customer)
    return client


def submit(client, service, priority):
    started = time.monotonic()
    response = client.post(
        reverse("tickets:new"),
        {
            "service": service.pk,
            "priority": priority.pk,
            "subject": "Backups stopped",
            "description": "Nothing since Monday.",
        },
    )
    return response, time.monotonic() - started


def received(customer, mailoutbox):
    return [m for m in mailoutbox if m.to == [customer.email] and "received" in m.subject]


def wait_until_sent(notification):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        notification.refresh_from_db()
        if notification.status != Notification.Status.PENDING:
            return notification
        time.sleep(0.1)
    pytest.fail(f"{notification.key} was not delivered within {WAIT} s")


def test_a_submitted_ticket_is_mailed_once_by_the_worker(
    worker, customer_client, customer, service, priority, mailoutbox
):
    """Submit → commit → task on Redis → the worker sends "ticket received", once."""
    factories.StaffFactory(tier=priority.start_tier)  # staff hear of it too, by their own row
    response, _ = submit(customer_client, service, priority)
    assert response.status_code == 302
    ticket = customer.tickets.get()
    notification = wait_until_sent(Notification.objects.get(key=f"ticket:{ticket.pk}:received"))
    assert notification.status == Notification.Status.SENT
    # A sweep after the fact finds nothing left for this row.
    worker.result(send_pending_notifications.delay())
    mails = received(customer, mailoutbox)
    assert len(mails) == 1
    assert ticket.number in mails[0].subject
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 2


def test_broker_down_while_submitting_then_the_sweep_mails_once_it_is_back(
    worker, broker_down, customer_client, customer, service, priority, mailoutbox, caplog
):
    """The issue's test: with Redis down the ticket is saved and the page succeeds at once;
    when Redis is back, the beat sweep run by the real worker sends the email, once."""
    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        response, elapsed = submit(customer_client, service, priority)
    assert response.status_code == 302
    assert elapsed < 5, f"the submission took {elapsed:.1f} s with the broker down"
    ticket = customer.tickets.get()
    assert response["Location"] == reverse("tickets:submitted", args=[ticket.pk])
    assert "Could not enqueue notification" in caplog.text
    notification = Notification.objects.get(key=f"ticket:{ticket.pk}:received")
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 0
    assert mailoutbox == []

    broker_down()  # the broker is back
    assert worker.result(send_pending_notifications.delay()) == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert len(received(customer, mailoutbox)) == 1

    assert worker.result(send_pending_notifications.delay()) == 0
    assert len(received(customer, mailoutbox)) == 1
    assert len(mailoutbox) == 1


def test_a_hung_broker_does_not_hang_the_submission(
    broker_hung, customer_client, customer, service, priority, mailoutbox
):
    """A broker that never answers costs the request one socket timeout, then the page succeeds.

    Without the socket timeouts in the broker's transport options, this request hangs for as
    long as the broker does.
    """
    response, elapsed = submit(customer_client, service, priority)
    assert response.status_code == 302
    assert elapsed < 5, f"the submission took {elapsed:.1f} s with the broker hung"
    ticket = customer.tickets.get()
    notification = Notification.objects.get(key=f"ticket:{ticket.pk}:received")
    assert notification.status == Notification.Status.PENDING
    assert mailoutbox == []
