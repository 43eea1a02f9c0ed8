"""Inbound email through IMAP at scale: 10,000 messages, end to end.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_inbound \
        python bench/inbound.py [--messages 10000] [--runs 3]

Each run: a fresh database (dropped and recreated) with one service, its priorities and 1,000
customers; a Dovecot of its own on loopback (``tests/inbound/dovecot.py``; needs
``dovecot-imapd`` and root). Mail is put in with IMAP APPEND (not timed), then
``inbound.imap.imap_fetch_mail`` (what the beat task ``inbound.tasks.fetch_mail`` runs) reads it:
fetched in batches, stored, the ticket or reply written with its outbox rows, flagged \\Seen.

- round 1: 40 % of the messages, each a new ticket;
- round 2: the other 60 %, interleaved: new tickets and replies (a third and two thirds) to the
  tickets of round 1, by our Reply-To token and In-Reply-To, as a mail client answers;
- one message in ten carries a 2–16 KiB attachment.

Timed: the two fetches (wall clock). Checked: every message stored once with an outcome, the
tickets and replies written, an outbox row per confirmation. Memory: the process's resident
size sampled every 50 ms during the fetches (peak, and at the end of each round).
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_inbound"
)

from common import ROOT, prepare_database  # noqa: E402

sys.path.insert(0, str(ROOT))

SUPPORT = "support@bench-service.example"
CUSTOMERS = 1000


def _rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    def __init__(self):
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss_mib())

    def __enter__(self):
        self.peak = _rss_mib()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _mail(*, sender, subject, body, to=SUPPORT, in_reply_to=None, attachment=None, n=0):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<bench-{n}-{random.getrandbits(48):x}@client.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(body)
    if attachment:
        message.add_attachment(
            attachment, maintype="text", subtype="plain", filename=f"log-{n}.txt"
        )
    return message.as_bytes()


def _body(n):
    return (
        f"Hello,\n\nrequest {n}: the nightly export stopped with an error since this morning.\n"
        "Steps: open Reports, pick Export, wait.\n\nThanks,\nA customer\n\n"
        "On Mon, 30 Nov 2026 at 10:00, Support wrote:\n> an older message\n> quoted below\n"
    )


def _attachment(n, rng):
    if n % 10:
        return None
    return (f"line {n}: something happened\n" * rng.randint(70, 560)).encode()


def _seed():
    from django.contrib.auth import get_user_model

    from sla.models import Priority, Service, ServiceCustomer

    service = Service.objects.create(
        slug="bench-service", name="Bench service", contact=SUPPORT, timezone="UTC"
    )
    targets = [("P1", "High", "1h", "8h"), ("P2", "Normal", "4h", "2d"), ("P3", "Low", "1d", "5d")]
    for position, (code, name, response, resolution) in enumerate(targets):
        Priority.objects.create(
            service=service,
            code=code,
            name=name,
            description=name,
            response=response,
            resolution=resolution,
            position=position,
        )
    User = get_user_model()
    users = User.objects.bulk_create(
        [
            User(username=f"c{i}@client.example", email=f"c{i}@client.example", is_active=True)
            for i in range(CUSTOMERS)
        ]
    )
    ServiceCustomer.objects.bulk_create(
        [ServiceCustomer(service=service, customer=user) for user in users]
    )
    return service


def _append_all(box, messages):
    for raw in messages:
        box.append(raw, "INBOX")


def one_run(messages_total, run_no):
    prepare_database(fresh=True)
    from django.db import connection, reset_queries
    from imap_tools import MailBoxUnencrypted

    from inbound.imap import imap_fetch_mail
    from inbound.models import InboundMessage
    from notifications.models import Notification
    from tests.inbound.dovecot import IMAP_PASSWORD, running_dovecot
    from tickets.mail_thread import reply_to_address, thread_root_id
    from tickets.models import Message, Ticket

    _seed()
    rng = random.Random(run_no)
    round1 = int(messages_total * 0.4)
    round2 = messages_total - round1
    results = {}
    with running_dovecot() as server:
        url = f"imap+plain://bench:{IMAP_PASSWORD}@127.0.0.1:{server['port']}/INBOX"
        box = MailBoxUnencrypted("127.0.0.1", server["port"]).login("bench", IMAP_PASSWORD)

        started = time.perf_counter()
        _append_all(
            box,
            (
                _mail(
                    sender=f"c{n % CUSTOMERS}@client.example",
                    subject=f"Export fails ({n})",
                    body=_body(n),
                    attachment=_attachment(n, rng),
                    n=n,
                )
                for n in range(round1)
            ),
        )
        append1 = time.perf_counter() - started
        reset_queries()
        with RssSampler() as rss1:
            started = time.perf_counter()
            result1 = imap_fetch_mail(url=url)
            fetch1 = time.perf_counter() - started
        rss_after1 = _rss_mib()

        tickets = list(Ticket.objects.order_by("pk").values_list("pk", "customer__email"))

        def second_round():
            for i in range(round2):
                n = round1 + i
                if i % 3 == 0:
                    yield _mail(
                        sender=f"c{n % CUSTOMERS}@client.example",
                        subject=f"Another question ({n})",
                        body=_body(n),
                        attachment=_attachment(n, rng),
                        n=n,
                    )
                else:
                    pk, email = tickets[rng.randrange(len(tickets))]
                    yield _mail(
                        sender=email,
                        to=reply_to_address(pk),
                        subject=f"Re: [#{pk}] Export fails",
                        body=f"Still broken after the update ({n}).\n\n> quoted\n",
                        in_reply_to=thread_root_id(pk),
                        attachment=_attachment(n, rng),
                        n=n,
                    )

        started = time.perf_counter()
        _append_all(box, second_round())
        append2 = time.perf_counter() - started
        box.logout()
        with RssSampler() as rss2:
            started = time.perf_counter()
            if os.environ.get("BENCH_PROFILE"):
                import cProfile
                import pstats

                profile = cProfile.Profile()
                result2 = profile.runcall(imap_fetch_mail, url=url)
                if os.environ.get("BENCH_PROFILE_OUT"):
                    profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
                stats = pstats.Stats(profile).sort_stats("cumulative")
                stats.print_stats(45)
            else:
                result2 = imap_fetch_mail(url=url)
            fetch2 = time.perf_counter() - started
        rss_after2 = _rss_mib()

    outcomes = _outcome_counts(InboundMessage)
    fetched = result1.fetched + result2.fetched
    elapsed = fetch1 + fetch2
    results.update(
        {
            "messages": fetched,
            "append_s": append1 + append2,
            "fetch_round1_s": fetch1,
            "fetch_round2_s": fetch2,
            "elapsed_s": elapsed,
            "rate": fetched / elapsed,
            "outcomes": outcomes,
            "tickets": Ticket.objects.count(),
            "customer_replies": Message.objects.filter(internal=False).count(),
            "outbox_rows": Notification.objects.count(),
            "rss_peak_round1_mib": rss1.peak,
            "rss_peak_round2_mib": rss2.peak,
            "rss_after_round1_mib": rss_after1,
            "rss_after_round2_mib": rss_after2,
        }
    )
    connection.close()
    return results


def _outcome_counts(model):
    from django.db.models import Count

    return {
        row["outcome"]: row["n"] for row in model.objects.values("outcome").annotate(n=Count("id"))
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for run_no in range(args.runs):
        result = one_run(args.messages, run_no)
        runs.append(result)
        print(
            f"run {run_no + 1}: {result['messages']} messages in {result['elapsed_s']:.1f} s "
            f"= {result['rate']:.0f}/s (round 1 {result['fetch_round1_s']:.1f} s, round 2 "
            f"{result['fetch_round2_s']:.1f} s; APPEND {result['append_s']:.1f} s untimed); "
            f"outcomes {result['outcomes']}; tickets {result['tickets']}, public messages "
            f"{result['customer_replies']}, outbox rows {result['outbox_rows']}; RSS peak "
            f"{result['rss_peak_round1_mib']:.0f} / {result['rss_peak_round2_mib']:.0f} MiB, "
            f"after rounds {result['rss_after_round1_mib']:.0f} / "
            f"{result['rss_after_round2_mib']:.0f} MiB",
            flush=True,
        )
    rates = [r["rate"] for r in runs]
    print(
        f"median {statistics.median(rates):.0f} messages/s over {len(runs)} runs "
        f"({', '.join(f'{rate:.0f}' for rate in rates)}); peak RSS "
        f"{max(max(r['rss_peak_round1_mib'], r['rss_peak_round2_mib']) for r in runs):.0f} MiB"
    )


if __name__ == "__main__":
    main()
