"""The REST API's list and detail endpoints over bench/seed.py's tickets, under gunicorn.

    python bench/api.py [--seed 1000000] [--rate 100] [--seconds 30] [--workers 2]

First, per endpoint, the server time through Django's handler (no network) and its SQL query
count; then an open-loop load on gunicorn (2 workers × 1 thread, gunicorn.conf.py): requests
sent on a fixed schedule whatever the server's speed, each latency measured from when its
request was due (no coordinated omission), half list pages and half ticket details, from 100
customers' tokens and two staff members' (Tier 1 and a superuser). ``--seed N`` fills the
database first (bench/seed.py; skipped when it is seeded already). All traffic on 127.0.0.1.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time

from common import BENCH_ENV, OUT, ROOT, prepare_database, setup_django

PORT = 8013


def tokens(customers=100):
    """(label, raw token, ticket ids it may read) for 100 customers and two staff members."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from api.services import token_create
    from tickets.models import Ticket

    users = get_user_model().objects
    expires = timezone.now() + timedelta(days=1)
    out = []
    for user in users.filter(username__regex=r"^bench[0-9]+@example.com$").order_by("pk")[
        :customers
    ]:
        ids = list(Ticket.objects.filter(customer=user).values_list("pk", flat=True)[:20])
        out.append(
            (
                "customer",
                token_create(user=user, name="bench", scope="read", expires_at=expires)[1],
                ids,
            )
        )
    newest = list(Ticket.objects.filter(tier=1).order_by("-id").values_list("pk", flat=True)[:2000])
    for username, label in [("bench-tier1", "staff"), ("bench-admin", "admin")]:
        user = users.get(username=username)
        raw = token_create(user=user, name="bench", scope="read", expires_at=expires)[1]
        out.append((label, raw, newest))
    return out


def server_time(visitors, repeat):
    """Median and p95 of full requests through Django's handler, and their query counts."""
    from django.db import connection
    from django.test import Client

    by_label = {}
    for label, raw, ids in visitors:
        by_label.setdefault(label, (raw, ids))
    client = Client()
    rows = []
    for label, (raw, ids) in by_label.items():
        for kind, path in [
            ("list", "/api/v1/tickets/"),
            ("list, active", "/api/v1/tickets/?status=active"),
            ("detail", f"/api/v1/tickets/{ids[0]}/"),
            ("messages", f"/api/v1/tickets/{ids[0]}/messages/"),
        ]:
            headers = {"Authorization": f"Bearer {raw}"}
            client.get(path, headers=headers)
            queries = []

            def count(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code, response.content)
            row = {"who": label, "endpoint": kind, "queries": len(queries)}
            row.update(_time(lambda p=path, h=headers: client.get(p, headers=h), repeat))
            rows.append(row)
            _print(row)
    # The portal's own pages, timed alongside on the same machine at the same moment: the
    # shared machine's load moves every figure, so compare these with docs/performance.md.
    from django.contrib.auth import get_user_model

    customer = get_user_model().objects.get(username="bench1@example.com")
    portal = Client()
    portal.force_login(customer)
    ticket_id = by_label["customer"][1][0]
    for kind, path in [
        ("page: my tickets", "/tickets/"),
        ("page: ticket", f"/tickets/{ticket_id}/"),
    ]:
        portal.get(path)
        row = {"who": "portal", "endpoint": kind, "queries": None}
        row.update(_time(lambda path=path: portal.get(path), repeat))
        rows.append(row)
        _print(row)
    return rows


def _time(call, repeat):
    """Wall time (median, p95) and this process's CPU time (median) of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        assert call().status_code == 200
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    return {
        "median_ms": round(statistics.median(walls), 1),
        "p95_ms": round(walls[max(0, int(len(walls) * 0.95) - 1)], 1),
        "cpu_median_ms": round(statistics.median(cpus), 1),
    }


def _print(row):
    queries = "" if row["queries"] is None else f"{row['queries']:>2} queries"
    print(
        f"{row['who']:<9} {row['endpoint']:<17} {queries:<11} median {row['median_ms']:>5} ms"
        f"  p95 {row['p95_ms']:>5} ms  CPU {row['cpu_median_ms']:>5} ms"
    )


async def fetch(path, raw, pool):
    connection = pool.get_nowait() if not pool.empty() else None
    if connection is None:
        connection = await asyncio.open_connection("127.0.0.1", PORT)
    reader, writer = connection
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {raw}\r\n"
        "Accept: application/json\r\nConnection: keep-alive\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    pool.put_nowait(connection)
    return status


async def run_load(visitors, rate, seconds):
    rng = random.Random(2026)
    pool = asyncio.Queue()
    results = {"list": [], "detail": []}
    statuses, errors = {}, 0
    start = time.perf_counter() + 0.5
    total = int(rate * seconds)

    async def one(index):
        nonlocal errors
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        label, raw, ids = visitors[index % len(visitors)]
        kind = "list" if rng.random() < 0.5 else "detail"
        path = "/api/v1/tickets/" if kind == "list" else f"/api/v1/tickets/{rng.choice(ids)}/"
        try:
            status = await asyncio.wait_for(fetch(path, raw, pool), timeout=10)
        except Exception:
            errors += 1
            return
        results[kind].append((time.perf_counter() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    while not pool.empty():  # keep-alive connections would hold gunicorn's shutdown
        pool.get_nowait()[1].close()

    def summary(latencies):
        latencies = sorted(latencies)

        def pct(p):
            return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1)

        return {"n": len(latencies), "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}

    return {
        "rate_target": rate,
        "seconds": seconds,
        "achieved_rate": round(sum(len(v) for v in results.values()) / elapsed, 1),
        "statuses": statuses,
        "errors": errors,
        "all": summary(results["list"] + results["detail"]),
        "list": summary(results["list"]),
        "detail": summary(results["detail"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="seed this many tickets first")
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    # Tokens are counted per minute; the benchmark's few tokens send thousands a minute.
    os.environ["API_TOKEN_RATE"] = BENCH_ENV["API_TOKEN_RATE"] = "1000000/minute"
    if args.seed:
        prepare_database()
        from seed import seed

        seed(args.seed)
    else:
        setup_django()
    from tickets.models import Ticket

    result = {"tickets_in_table": Ticket.objects.count()}
    print(f"{result['tickets_in_table']:,} tickets")
    visitors = tokens()
    result["server_time"] = server_time(visitors, args.repeat)
    env = {**os.environ, **BENCH_ENV}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi",
            "--config=gunicorn.conf.py",
            f"--workers={args.workers}",
            "--threads=1",
            f"--bind=127.0.0.1:{PORT}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                asyncio.run(fetch("/healthz", "", asyncio.Queue()))
                break
            except OSError:
                time.sleep(0.2)
        asyncio.run(run_load(visitors, rate=20, seconds=3))  # warm-up
        load = asyncio.run(run_load(visitors, rate=args.rate, seconds=args.seconds))
        load["gunicorn_workers"] = args.workers
        result["load"] = load
        print(json.dumps(load, indent=2))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "api.json").write_text(json.dumps(result, indent=2))
    sys.exit(1 if load["errors"] or any(s >= 500 for s in load["statuses"]) else 0)


if __name__ == "__main__":
    main()
