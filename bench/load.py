"""Open-loop load test: gunicorn (2 workers) under a fixed rate of mixed customer pages.

    python bench/load.py [--rate 200] [--seconds 60] [--workers 2]

Requests are sent on a fixed schedule whatever the server's speed (open loop), and each
latency is measured from the moment the request was due, so a slow server cannot hide its
queue (no coordinated omission). Signed-in customers come from bench/seed.py. All traffic
stays on 127.0.0.1.

Baseline measured in the same run against the same gunicorn (bench/common.py): throughput,
closed loop (``--concurrency`` connections each sending its next request as soon as the last
one answered, for ``--capacity-seconds``), of the minimal signed-in view and of the same mix
of customer pages; the ratio of the two is the sustained-load target (>= 0.8), which holds
on any machine, whatever rate it can take today.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time

from common import (
    BENCH_ENV,
    MINIMAL_VIEW_PATH,
    OUT,
    ROOT,
    print_report,
    python_unit_ms,
    ratio,
    setup_django,
)

# --port: another session's benchmark may hold the default one.
PORT = 8011


def sessions_for_customers(count):
    """Session cookies for signed-in customers, made the way Django's login makes them."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from tickets.models import Ticket

    customers = get_user_model().objects.filter(username__regex=r"^bench[0-9]+@example.com$")
    visitors = []
    for user in customers.order_by("pk")[:count]:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "accounts.backends.EmailBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        ticket_ids = list(Ticket.objects.filter(customer=user).values_list("pk", flat=True)[:10])
        visitors.append((f"{settings.SESSION_COOKIE_NAME}={session.session_key}", ticket_ids))
    return visitors


def pick_path(rng, ticket_ids):
    roll = rng.random()
    if roll < 0.30:
        return "/tickets/"
    if roll < 0.60:
        return f"/tickets/{rng.choice(ticket_ids)}/"
    if roll < 0.75:
        return "/"
    if roll < 0.85:
        return "/tickets/?status=active"
    if roll < 0.95:
        return "/tickets/new/"
    return "/status/"


async def fetch(path, cookie, pool=None):
    """GET ``path``; with a ``pool`` (an asyncio.Queue of idle connections) reuse one, as a
    browser or wrk does with keep-alive; without, open and close a connection per request."""
    connection = None
    if pool is not None and not pool.empty():
        connection = pool.get_nowait()
    if connection is None:
        connection = await asyncio.open_connection("127.0.0.1", PORT)
    reader, writer = connection
    keep = pool is not None
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
        f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
            keep = False
    if length is None:
        await reader.read()
        keep = False
    else:
        await reader.readexactly(length)
    if keep:
        pool.put_nowait(connection)
    else:
        writer.close()
    return status


async def run_load(visitors, rate, seconds, keepalive=True):
    rng = random.Random(2026)
    pool = asyncio.Queue() if keepalive else None
    latencies, statuses, errors = [], {}, 0
    start = time.perf_counter() + 0.5
    total = int(rate * seconds)

    async def one(index):
        nonlocal errors
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        cookie, ticket_ids = visitors[index % len(visitors)]
        path = pick_path(rng, ticket_ids)
        try:
            status = await asyncio.wait_for(fetch(path, cookie, pool), timeout=10)
        except Exception:
            errors += 1
            return
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1)

    return {
        "rate_target": rate,
        "seconds": seconds,
        "requests": total,
        "achieved_rate": round(len(latencies) / elapsed, 1),
        "statuses": statuses,
        "errors": errors,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1),
    }


async def run_closed(visitors, seconds, concurrency, path=None):
    """Requests per second with ``concurrency`` connections kept busy for ``seconds``: each
    sends its next request when the last one answered (``path``, or the customer mix)."""
    rng = random.Random(2027)
    done, errors = 0, 0
    stop = time.perf_counter() + seconds

    async def client(index):
        nonlocal done, errors
        pool = asyncio.Queue()
        while time.perf_counter() < stop:
            cookie, ticket_ids = visitors[(index + done) % len(visitors)]
            try:
                status = await asyncio.wait_for(
                    fetch(path or pick_path(rng, ticket_ids), cookie, pool), timeout=10
                )
            except Exception:
                errors += 1
                continue
            if status == 200:
                done += 1
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return {"rps": round(done / (time.perf_counter() - started), 1), "errors": errors}


def main():
    global PORT  # noqa: PLW0603 -- fetch() reads it; one server per run
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop connections")
    parser.add_argument("--capacity-seconds", type=int, default=15)
    parser.add_argument(
        "--no-keepalive",
        action="store_true",
        help="a new connection per request (default: reuse connections, as browsers and wrk do)",
    )
    parser.add_argument("--port", type=int, default=PORT, help="gunicorn's port on 127.0.0.1")
    args = parser.parse_args()
    PORT = args.port
    setup_django()
    visitors = sessions_for_customers(100)
    env = {**os.environ, **BENCH_ENV}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi",
            "--config=gunicorn.conf.py",
            f"--workers={args.workers}",
            f"--threads={args.threads}",
            f"--bind=127.0.0.1:{PORT}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                asyncio.run(fetch("/healthz", ""))
                break
            except OSError:
                time.sleep(0.2)
        asyncio.run(run_load(visitors, rate=20, seconds=3))  # warm-up
        closed = {
            name: asyncio.run(
                run_closed(visitors, args.capacity_seconds, args.concurrency, path=path)
            )
            for name, path in (("minimal_view", MINIMAL_VIEW_PATH), ("customer_mix", None))
        }
        result = asyncio.run(
            run_load(
                visitors, rate=args.rate, seconds=args.seconds, keepalive=not args.no_keepalive
            )
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    result["gunicorn_workers"] = args.workers
    result["gunicorn_threads"] = args.threads
    result["keepalive"] = not args.no_keepalive
    result["capacity"] = closed
    result["python_unit_ms"] = python_unit_ms()
    result["mix_over_minimal_view"] = ratio(
        closed["customer_mix"]["rps"], closed["minimal_view"]["rps"]
    )
    print(json.dumps(result, indent=2))
    print_report(
        f"Load, gunicorn {args.workers}x{args.threads}",
        {
            f"open loop {args.rate}/s for {args.seconds}s: achieved/s": result["achieved_rate"],
            "open loop p95 ms": result["p95_ms"],
            f"customer mix, closed loop x{args.concurrency}: req/s": closed["customer_mix"]["rps"],
        },
        {
            f"minimal view, closed loop x{args.concurrency}: req/s": closed["minimal_view"]["rps"],
            "python unit ms": result["python_unit_ms"],
        },
        {"customer mix / minimal view throughput (target >= 0.8)": result["mix_over_minimal_view"]},
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(json.dumps(result, indent=2))
    bad = result["errors"] or any(s >= 500 for s in result["statuses"])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
