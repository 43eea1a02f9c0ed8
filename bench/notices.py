"""Maintenance notices at scale: one occurrence, 100,000 subscribers, recorded and delivered.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_notices \
        python bench/notices.py [--subscribers 100000] [--smtp] [--smtp-connections N]

1. Expands a year of a weekly window for 100 services (``occurrences_for_services``).
2. Runs ``maintenance.notices.notices_send_due`` at the 48-hour moment: every subscriber's
   notice recorded (NoticeDelivery + outbox row), timed, queries counted per batch.
3. Runs the outbox sweep ``notifications_send_due``: every message built and handed to the
   email backend. By default an in-process backend that serialises each message to bytes as
   the SMTP backend would (``message().as_bytes()``) and counts it; ``--smtp`` uses Django's
   SMTP backend against a minimal SMTP sink on 127.0.0.1 (a process of its own), over
   ``NOTIFICATION_SMTP_CONNECTIONS`` connections at once (``--smtp-connections``).
4. Runs both again: nothing more is recorded or sent.

Uses its own database (dropped and recreated each run).
"""

import argparse
import os
import socketserver
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_notices"
)

from common import prepare_database  # noqa: E402
from django.core.mail.backends.base import BaseEmailBackend  # noqa: E402


class SerialisingBackend(BaseEmailBackend):
    """Does the SMTP backend's CPU work (build the MIME message) and counts, no network."""

    accepted = 0

    def send_messages(self, email_messages):
        for message in email_messages:
            message.message().as_bytes()
            type(self).accepted += 1
        return len(email_messages)


class _SinkHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept mail: counts each DATA."""

    accepted = 0

    def handle(self):
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                if not self._read_data():
                    return
                type(self).accepted += 1
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")

    def _read_data(self):
        """Read the message up to its terminating ``.`` line, in blocks (a mail server in C
        does not pay Python's per-line cost; the sink should not be the bottleneck). The
        client waits for our answer after the terminator, so it ends what we have read."""
        data = b""
        while not (data == b".\r\n" or data.endswith(b"\r\n.\r\n")):
            chunk = self.rfile.read1(65536)
            if not chunk:
                return False
            data += chunk
        return True


def _serve(port_queue, asks, answers):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SinkHandler)
    server.daemon_threads = True
    port_queue.put(server.server_address)

    def report():
        while asks.get():
            answers.put(_SinkHandler.accepted)

    threading.Thread(target=report, daemon=True).start()
    server.serve_forever()


class Sink:
    """The SMTP sink in a process of its own, as a mail server would be (its own CPU)."""

    def __init__(self):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        ports, self.asks, self.answers = ctx.Queue(), ctx.Queue(), ctx.Queue()
        self.process = ctx.Process(
            target=_serve, args=(ports, self.asks, self.answers), daemon=True
        )
        self.process.start()
        self.server_address = ports.get(timeout=10)

    def accepted(self):
        time.sleep(0.2)  # let the last QUIT land
        self.asks.put(True)
        return self.answers.get(timeout=10)


def start_sink():
    return Sink()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--smtp", action="store_true", help="deliver through a local SMTP sink")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="also run the pipeline as worker processes would: one recording the notices while "
        "N outbox sweeps deliver (0: only the sequential single-worker run)",
    )
    parser.add_argument(
        "--smtp-connections",
        type=int,
        default=None,
        help="NOTIFICATION_SMTP_CONNECTIONS for the outbox sweep (default: the setting's, 4)",
    )
    args = parser.parse_args()
    prepare_database(fresh=True)
    from django.conf import settings

    if args.smtp_connections is not None:
        settings.NOTIFICATION_SMTP_CONNECTIONS = args.smtp_connections
    connections = getattr(settings, "NOTIFICATION_SMTP_CONNECTIONS", 1)  # 1 before issue 15
    print(f"outbox sweep: {connections} SMTP connection(s) per worker")

    sink = None
    if args.smtp:
        sink = start_sink()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = sink.server_address
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    else:
        settings.EMAIL_BACKEND = "__main__.SerialisingBackend"
    run(args.subscribers, sink)
    if args.workers:
        pipeline(args.subscribers, sink, args.workers)


def _clear():
    from maintenance.models import NoticeDelivery, NoticeRound
    from notifications.models import Notification, NotificationBody

    NoticeDelivery.objects.all().delete()
    NoticeRound.objects.all().delete()
    Notification.objects.all().delete()
    NotificationBody.objects.all().delete()


def _recorder(due, results):
    import time_machine
    from django.db import connections

    connections.close_all()
    from maintenance.notices import notices_send_due

    with time_machine.travel(due, tick=True):
        results.put(("recorded", notices_send_due(batch_size=1000)))
    connections.close_all()


def _deliverer(due, results, recording_done, subscribers):
    import time_machine
    from django.db import connections

    connections.close_all()
    from notifications.delivery import notifications_send_due
    from notifications.models import Notification

    sent = 0
    with time_machine.travel(due, tick=True):
        while True:
            count = notifications_send_due(batch_size=100)
            sent += count
            if count == 0:
                if (
                    recording_done.is_set()
                    and not Notification.objects.filter(status="pending").exists()
                ):
                    break
                time.sleep(0.05)
    results.put(("sent", sent))
    connections.close_all()


def pipeline(subscribers, sink, workers):
    """Record and deliver at once, as Celery workers do: each committed batch of notices asks
    for an outbox sweep, so delivery starts while recording goes on."""
    import multiprocessing

    from django.db import connections

    from notifications.models import Notification

    _clear()
    sent_before = sink.accepted() if sink else None
    connections.close_all()
    due = datetime(2027, 1, 10, 2, tzinfo=UTC) - timedelta(hours=48)
    ctx = multiprocessing.get_context("fork")
    results, recording_done = ctx.Queue(), ctx.Event()
    started = time.perf_counter()
    recorder = ctx.Process(target=_recorder, args=(due, results))
    deliverers = [
        ctx.Process(target=_deliverer, args=(due, results, recording_done, subscribers))
        for _ in range(workers)
    ]
    recorder.start()
    for process in deliverers:
        process.start()
    recorder.join()
    recording_done.set()
    recorded_s = time.perf_counter() - started
    for process in deliverers:
        process.join()
    total_s = time.perf_counter() - started
    counts = {}
    while not results.empty():
        name, value = results.get()
        counts[name] = counts.get(name, 0) + value
    sent = Notification.objects.filter(status="sent").count()
    accepted = (sink.accepted() - sent_before) if sink else "n/a (in-process backend)"
    print(
        f"pipeline (1 recording + {workers} delivering processes): {counts.get('recorded', 0):,} "
        f"recorded by {recorded_s:.1f}s, {sent:,} sent, all done in {total_s:.1f}s; "
        f"mail server accepted {accepted:,}"
        if sink
        else f"pipeline: {sent:,} sent in {total_s:.1f}s"
    )
    assert sent == subscribers


def run(subscribers, sink):
    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from maintenance.models import MaintenancePolicy, MaintenanceWindow, Subscription
    from maintenance.notices import notices_send_due
    from maintenance.selectors import occurrences_for_services
    from notifications.delivery import notifications_send_due
    from notifications.models import Notification
    from sla.models import Service

    created = datetime(2026, 12, 1, tzinfo=UTC)
    sunday = datetime(2027, 1, 10, 2, tzinfo=UTC)
    with time_machine.travel(created, tick=False):
        services = Service.objects.bulk_create(
            Service(slug=f"bench-{i}", name=f"Bench {i}", timezone="UTC") for i in range(100)
        )
        MaintenancePolicy.objects.bulk_create(
            MaintenancePolicy(service=s, notices=["48h"], channels=["email", "banner"])
            for s in services
        )
        MaintenanceWindow.objects.bulk_create(
            MaintenanceWindow(
                service=s,
                name="Scheduled downtime",
                rrule="FREQ=WEEKLY;BYDAY=SU",
                start=clock_time(2),
                duration="2h",
                timezone="UTC",
                impact="Full downtime",
            )
            for s in services
        )
    target = services[0]
    # Only one service has subscribers; the others have no email channel for this run.
    MaintenancePolicy.objects.exclude(service=target).update(channels=["banner"])

    started = time.perf_counter()
    found = occurrences_for_services(
        start=datetime(2027, 1, 1, tzinfo=UTC), end=datetime(2028, 1, 1, tzinfo=UTC)
    )
    print(
        f"expand: {len(found):,} occurrences of 100 weekly windows over a year in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )

    started = time.perf_counter()
    batch = 50_000
    for offset in range(0, subscribers, batch):
        Subscription.objects.bulk_create(
            (
                Subscription(
                    service=target,
                    email=f"subscriber{i}@example.com",
                    confirmed_at=created,
                    token=f"bench-token-{i:08d}",
                )
                for i in range(offset, min(offset + batch, subscribers))
            ),
            batch_size=5000,
        )
    print(f"seed: {subscribers:,} subscribers in {time.perf_counter() - started:.1f}s")

    due = sunday - timedelta(hours=48)
    with time_machine.travel(due, tick=True):
        connection.force_debug_cursor = True
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            recorded = notices_send_due(batch_size=1000)
            record_s = time.perf_counter() - started
        batches = -(-subscribers // 1000)
        print(
            f"record: {recorded:,} notices in {record_s:.1f}s "
            f"({recorded / record_s:,.0f}/s), {len(queries)} queries "
            f"(~{len(queries) / max(batches, 1):.1f} per batch of 1,000)"
        )
        db_time = [0.0]

        def timed(execute, sql, params, many, context):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                db_time[0] += time.perf_counter() - began

        with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
            started = time.perf_counter()
            sent = notifications_send_due(batch_size=100)
            send_s = time.perf_counter() - started
        print(
            f"deliver: {sent:,} emails handed to the backend in {send_s:.1f}s "
            f"({sent / send_s:,.0f}/s), {len(queries)} queries "
            f"(~{len(queries) / max(-(-sent // 100), 1):.1f} per group of 100), "
            f"{db_time[0]:.1f}s of it in queries"
        )
        print(f"total record + deliver: {record_s + send_s:.1f}s")
        accepted = sink.accepted() if sink else SerialisingBackend.accepted
        assert accepted == subscribers, accepted
        assert Notification.objects.filter(status="sent").count() == subscribers
        started = time.perf_counter()
        again = notices_send_due(batch_size=1000), notifications_send_due(batch_size=100)
        print(
            f"second run: recorded {again[0]}, sent {again[1]} "
            f"in {(time.perf_counter() - started) * 1000:.0f} ms"
        )
        assert again == (0, 0)
        connection.force_debug_cursor = False


if __name__ == "__main__":
    main()
