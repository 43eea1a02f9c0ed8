"""The outbox sweep over several SMTP connections at once (``smtp_pool``), against a real mail
server (aiosmtpd on loopback): every row sent, once, its outcome recorded as over one
connection; a crash of the worker mid-group leaves that group to the next sweep.
"""

import asyncio
import os
import re
import signal
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.db import connections, transaction

from notifications.delivery import notifications_send_due
from notifications.models import Notification
from notifications.services import (
    OutboxEmail,
    notification_body_create,
    notifications_create_many,
)
from tests.concurrency import run_together
from tests.core.fast_paths import rows
from tests.smtp_servers import smtp_server_on_loopback

PLACEHOLDER = "@@link@@"


class MailServer:
    """aiosmtpd handler: keeps every message, can answer slowly, refuse some recipients, and
    hold the message numbered ``hang_at`` (no answer) to catch a worker mid-group."""

    def __init__(self):
        self.received = []  # (recipient, raw bytes)
        self.lock = threading.Lock()
        self.delay = 0.0
        self.in_flight = self.most_in_flight = 0
        self.sessions = set()
        self.refuse = ()
        self.hang_at = None
        self.held = 0  # messages held so far

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if any(word in address for word in self.refuse):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            number = len(self.received) + self.in_flight + 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hang_at is not None and number >= self.hang_at:
                self.held += 1
                # The worker is killed while it waits for this answer; never accepted.
                while self.hang_at is not None:
                    await asyncio.sleep(0.05)
                return "451 4.3.0 try again later"
            if self.delay:
                await asyncio.sleep(self.delay)
            with self.lock:
                self.sessions.add(id(session))
                self.received.append((envelope.rcpt_tos[0], envelope.content))
        finally:
            with self.lock:
                self.in_flight -= 1
        return "250 OK"


@pytest.fixture
def mail_server(settings):
    with smtp_server_on_loopback(MailServer(), settings) as server:
        yield server


def record(count, *, own=0, prefix="bulk"):
    """``count`` rows sharing one body (each its own link) and ``own`` rows with a body of
    their own and an attachment (the ordinary path): what a notice and a report look like."""
    body = notification_body_create(
        subject="Planned maintenance", body_text=f"Sunday 02:00.\nUnsubscribe: {PLACEHOLDER}\n"
    )
    notifications_create_many(
        emails=[
            OutboxEmail(
                key=f"{prefix}:{i}",
                to=f"{prefix}{i}@example.com",
                subject=body.subject,
                headers={"List-Unsubscribe": f"<{PLACEHOLDER}>"},
                body=body,
                substitutions={PLACEHOLDER: f"https://portal.example/u/{i}/"},
            )
            for i in range(count)
        ]
        + [
            OutboxEmail(
                key=f"own:{i}", to=f"own{i}@example.com", subject=f"Report {i}", body_text="CSV"
            )
            for i in range(own)
        ]
    )
    Notification.objects.filter(key__startswith="own:").update(
        attachments=[["report.csv", "text/csv", "a,b\n1,2\n"]]
    )


def normalised(raw):
    (message_id,) = re.findall(rb"^Message-ID: (.+?)\r?\n", raw, flags=re.MULTILINE)
    raw = raw.replace(message_id, b"<MESSAGE-ID>")
    for boundary in set(re.findall(rb'boundary="([^"]+)"', raw)):
        raw = raw.replace(boundary, b"BOUNDARY")
    return raw


def sent_and_pending():
    statuses = Counter(Notification.objects.values_list("status", flat=True))
    return statuses[Notification.Status.SENT], statuses[Notification.Status.PENDING]


@pytest.mark.django_db
def test_a_pool_sends_every_row_once_over_several_connections_at_once(mail_server):
    """Four connections, a slow server: messages overlap, each recipient gets one, all sent."""
    record(60, own=4)
    mail_server.delay = 0.02
    assert notifications_send_due(batch_size=25, smtp_connections=4) == 64
    recipients = Counter(to for to, _ in mail_server.received)
    assert len(recipients) == 64 and set(recipients.values()) == {1}
    assert mail_server.most_in_flight > 1
    assert len(mail_server.sessions) == 4  # connections kept open across groups, not redialled
    assert sent_and_pending() == (64, 0)
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_one_connection_sends_one_message_at_a_time(mail_server):
    record(12)
    mail_server.delay = 0.02
    assert notifications_send_due(batch_size=5, smtp_connections=1) == 12
    assert mail_server.most_in_flight == 1
    assert len(mail_server.sessions) == 1


@pytest.mark.django_db
def test_the_pool_hands_the_server_what_one_connection_hands_it(mail_server, time_machine):
    """Same rows, same bytes (but each message's own Message-ID and boundary), same
    outcome recorded: the pool only changes how many conversations run at once."""
    time_machine.move_to(datetime(2026, 11, 2, 9, 30, tzinfo=UTC), tick=False)
    record(9, own=3)
    before = transaction.savepoint()
    assert notifications_send_due(batch_size=4, smtp_connections=1) == 12
    one = sorted((to, normalised(raw)) for to, raw in mail_server.received)
    one_rows = rows(Notification, exclude=("id", "sent_at", "body_id"))
    transaction.savepoint_rollback(before)
    mail_server.received.clear()
    assert notifications_send_due(batch_size=4, smtp_connections=3) == 12
    pooled = sorted((to, normalised(raw)) for to, raw in mail_server.received)
    assert pooled == one
    assert rows(Notification, exclude=("id", "sent_at", "body_id")) == one_rows


@pytest.mark.django_db
def test_a_refused_recipient_is_retried_later_and_the_others_are_sent(mail_server, settings):
    """A message the server refuses is that row's failure (attempt, error, backoff), recorded
    in the group's transaction; the other connections carry on."""
    record(20)
    mail_server.refuse = ("bulk3@", "bulk17@")
    assert notifications_send_due(batch_size=8, smtp_connections=4) == 18
    failed = Notification.objects.filter(status=Notification.Status.PENDING)
    assert sorted(failed.values_list("to", flat=True)) == [
        "bulk17@example.com",
        "bulk3@example.com",
    ]
    for row in failed:
        assert row.attempts == 1
        assert "SMTPRecipientsRefused" in row.last_error
        assert row.next_attempt_at > row.created_at
    assert len(mail_server.received) == 18


@pytest.mark.django_db
def test_an_unreachable_server_ends_the_sweep_charging_one_row(settings):
    """No connection can be opened: as over one connection, one row is charged the attempt,
    the others keep theirs, and the sweep stops."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens there once the socket is closed
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    record(10)
    assert notifications_send_due(batch_size=4, smtp_connections=4) == 0
    attempts = sorted(Notification.objects.values_list("attempts", flat=True))
    assert attempts == [0] * 9 + [1]
    assert "ConnectionRefusedError" in Notification.objects.get(attempts=1).last_error
    assert sent_and_pending() == (0, 10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pooled_sweeps_send_every_row_exactly_once(mail_server):
    """Two workers' sweeps, four connections each, share the due rows through SKIP LOCKED."""
    record(300)
    sent = run_together(
        lambda: notifications_send_due(batch_size=20, smtp_connections=4),
        lambda: notifications_send_due(batch_size=20, smtp_connections=4),
    )
    assert sum(sent) == 300
    recipients = Counter(to for to, _ in mail_server.received)
    assert len(recipients) == 300 and set(recipients.values()) == {1}
    assert sent_and_pending() == (300, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_group_leaves_the_group_to_the_next_sweep(mail_server):
    """A worker process SIGKILLed while its pool waits on the mail server: the groups it
    committed stay sent, the group in flight stays pending with its attempts untouched, and
    the next sweep sends it. The messages of that group the server had already accepted go
    out twice (SMTP is at least once): never more than the group, never a committed row."""
    record(50)
    mail_server.hang_at = 23  # group 3 (rows 21–30) is in flight when the worker dies
    connections.close_all()  # the child opens its own
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            notifications_send_due(batch_size=10, smtp_connections=3)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 60
    while mail_server.held == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the other connections finish what they had in hand
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    mail_server.hang_at = None  # the held conversations end, unaccepted
    assert mail_server.held > 0, "the worker never reached the held message"
    before = Counter(to for to, _ in mail_server.received)
    assert sent_and_pending() == (20, 30)
    assert set(
        Notification.objects.filter(status=Notification.Status.PENDING).values_list(
            "attempts", flat=True
        )
    ) == {0}
    committed = set(
        Notification.objects.filter(status=Notification.Status.SENT).values_list("to", flat=True)
    )

    assert notifications_send_due(batch_size=10, smtp_connections=3) == 30
    after = Counter(to for to, _ in mail_server.received)
    assert len(after) == 50  # everyone has theirs
    duplicated = {to for to, n in after.items() if n > 1}
    assert duplicated == set(before) - committed  # what the server took of the lost group
    assert 0 < len(duplicated) <= 10
    assert set(after.values()) <= {1, 2}
    assert sent_and_pending() == (50, 0)


class LimitedServer:
    """A mail server that takes ``limit`` connections at once and answers any more with 421 at
    the greeting (as servers limiting connections per client do)."""

    def __init__(self, limit):
        import socketserver

        self.received, self.refused = [], 0
        server_state = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                with lock:
                    if active[0] >= limit:
                        server_state.refused += 1
                        self.wfile.write(b"421 4.7.0 too many connections\r\n")
                        return
                    active[0] += 1
                try:
                    self.converse()
                finally:
                    with lock:
                        active[0] -= 1

            def converse(self):
                self.wfile.write(b"220 limited ESMTP\r\n")
                to = None
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        self.wfile.write(b"250-limited\r\n250 8BITMIME\r\n")
                    elif verb == b"RCPT":
                        to = line[8:].strip().strip(b"<>").decode()
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        while self.rfile.readline() not in (b".\r\n", b""):
                            pass
                        time.sleep(0.01)  # every connection asked for has tried by now
                        with lock:
                            server_state.received.append(to)
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        lock, active = threading.Lock(), [0]
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db
def test_connections_the_server_refuses_leave_the_rest_to_the_others(settings, caplog):
    """Four connections asked, two allowed: the two refused drop out of the sweep (a warning
    each), the two accepted send every row, and nobody is charged an attempt for the refusal."""
    server = LimitedServer(limit=2)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        record(30)
        assert notifications_send_due(batch_size=10, smtp_connections=4) == 30
    finally:
        server.close()
    assert sorted(server.received) == sorted(f"bulk{i}@example.com" for i in range(30))
    assert server.refused == 2  # once each: left out for the rest of the sweep
    assert caplog.text.count("refused a connection") == 2
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
    assert sent_and_pending() == (30, 0)


class _SoftTimeLimit(Exception):
    """Raised in the sweep's thread by a timer, as Celery's soft time limit is."""


@pytest.mark.django_db
def test_a_sweep_interrupted_while_the_pool_sends_sends_no_more_of_the_group(mail_server):
    """The sweep's own thread is interrupted while the connections send a group: the group's
    transaction rolls back and the rest of the group is not sent behind its back (the next
    sweep sends it once)."""
    record(40)
    mail_server.delay = 0.1  # 40 messages over 2 connections: ~2 s

    def interrupt(signum, frame):
        raise _SoftTimeLimit

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.35)
    try:
        with pytest.raises(_SoftTimeLimit):
            notifications_send_due(batch_size=40, smtp_connections=2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    time.sleep(0.3)  # what the connections had in hand lands
    sent_while_interrupted = len(mail_server.received)
    assert 0 < sent_while_interrupted <= 10  # the messages on the wire, not the group
    assert sent_and_pending() == (0, 40)  # rolled back: all left to the next sweep

    mail_server.delay = 0
    assert notifications_send_due(batch_size=40, smtp_connections=2) == 40
    assert sent_and_pending() == (40, 0)
