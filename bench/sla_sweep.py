"""The SLA escalation sweep on a big table: N open tickets, some of them lapsed.

    python bench/sla_sweep.py --tickets 1000000 --lapsed 10000 [--fresh]

Seeds its own database (``portal_bench_sla``, or ``BENCH_DATABASE_URL``) with set-based SQL:
N open tickets of one service, their deadlines days ahead, except ``--lapsed`` of them whose
first-response deadline passed an hour ago (their "at risk" warning went out before, as it
would have in production, so its step row exists). Then it measures, in one process:

1. one sweep over everything due: every lapsed ticket escalated to Tier 2 (events, emails);
2. a sweep when nothing is due (median of 20; its one query's plan, ``EXPLAIN ANALYZE``);

(the URL resolver warmed first, as a Celery worker does at start: ``portal.celery``)

and reports wall time and the number of SQL queries of each. Results go to
``bench/out/sla_sweep-<N>.json``.

Beside them, measured in the same run (bench/common.py): the sweep's floor, the database's own
time for exactly the rows the sweep wrote (one ``UPDATE … FROM unnest`` of the tickets, one
``INSERT … FROM unnest`` each of the step rows, the events, the outbox rows and anything else
it inserted, in one transaction), and a fixed unit of Python work; and the ratio of the sweep
to its floor (target: <= 2). ``--runs 3`` (the default) sweeps the same rows three times, the
database put back between runs, and reports the medians.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_sla")

from common import OUT, WriteFloor, prepare_database, print_report, python_unit_ms, ratio  # noqa: E402,I001


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--lapsed", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--runs", type=int, default=3, help="sweeps of the same rows (median)")
    parser.add_argument("--out", help="result file (default bench/out/sla_sweep-<N>.json)")
    args = parser.parse_args()
    prepare_database(fresh=args.fresh)
    started = time.perf_counter()
    now = seed(args.tickets, args.lapsed)
    print(
        f"seeded {args.tickets:,} tickets ({args.lapsed:,} lapsed) in "
        f"{time.perf_counter() - started:.1f}s"
    )
    result = measure(now, args.batch_size, args.runs)
    result.update(tickets=args.tickets, lapsed=args.lapsed, batch_size=args.batch_size)
    print_report(
        f"SLA sweep, {args.tickets:,} tickets, {args.lapsed:,} lapsed",
        {
            "sweep s (median)": result["busy_seconds"],
            "sweep queries": result["busy_queries"],
            "idle sweep ms (median)": result["idle_ms_median"],
        },
        {
            "floor s (bare SQL of the same writes)": result["floor_seconds"],
            "python unit ms": result["python_unit_ms"],
        },
        {"sweep / floor (target <= 2)": result["sweep_over_floor"]},
    )
    OUT.mkdir(exist_ok=True)
    out = Path(args.out) if args.out else OUT / f"sla_sweep-{args.tickets}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def seed(n_tickets, n_lapsed):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from sla.models import EscalationPolicy, Priority, Service, Tier
    from tickets.models import Ticket

    now = timezone.now().replace(microsecond=0)
    if Ticket.objects.exists():
        print("already seeded; use --fresh to start again")
        sys.exit(1)
    service = Service.objects.create(slug="bench-sla", name="Bench SLA service")
    priority = Priority.objects.create(
        service=service, code="P1", name="High", response="1h", resolution="", position=0
    )
    for level in (1, 2, 3):
        Tier.objects.create(service=service, level=level, name=f"Tier {level}")
    EscalationPolicy.objects.create(service=service, warn_at=75)
    users = get_user_model().objects
    for level in (1, 2, 3):
        for k in range(2):
            user = users.create(
                username=f"bench-sla-t{level}-{k}",
                email=f"bench-sla-t{level}-{k}@example.com",
                is_staff=True,
            )
            user.groups.add(Group.objects.get(name=f"Tier {level}"))
    customer = users.create(username="bench-sla-customer", email="bench-sla-customer@example.com")
    with connection.cursor() as cursor:
        # g <= lapsed: opened 2 h ago, response due 1 h ago, next check then; the rest opened
        # over the last days with their response deadlines spread over the coming days.
        cursor.execute(
            """
            INSERT INTO tickets_ticket (service_id, customer_id, priority_id, subject, description,
                status, tier, created_at, updated_at, rating_comment, sla_pauses,
                tier_entered_at, response_due_at, response_warn_at, next_due_at,
                next_sla_check_at)
            SELECT %(service)s, %(customer)s, %(priority)s, 'SLA bench ticket ' || g, 'Generated.',
                   CASE WHEN g %% 2 = 0 THEN 'new' ELSE 'open' END, 1, c, c, '', '[]', c,
                   c + interval '1 hour', c + interval '45 minutes', c + interval '1 hour',
                   c + interval '45 minutes'
            FROM (
                SELECT g, CASE WHEN g <= %(lapsed)s THEN %(now)s - interval '2 hours'
                               ELSE %(now)s + ((g %% 100000) || ' seconds')::interval
                                    + interval '1 day' END AS c
                FROM generate_series(1, %(n)s) AS g
            ) AS s
            """,
            {
                "service": service.pk,
                "customer": customer.pk,
                "priority": priority.pk,
                "lapsed": n_lapsed,
                "now": now,
                "n": n_tickets,
            },
        )
        # Their warnings went out 15 minutes before the deadline, as the sweep would have done.
        cursor.execute(
            """
            INSERT INTO tickets_ticketslastep (ticket_id, timer, due_at, step, at, detail,
                                               created_at)
            SELECT id, 'response', response_due_at, 'warned', response_warn_at, '',
                   response_warn_at
            FROM tickets_ticket WHERE response_due_at <= %s
            """,
            [now],
        )
        cursor.execute("ANALYZE")
    return now


def measure(now, batch_size, runs=3):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from tickets.escalation import escalate_lapsed_tickets
    from tickets.models import Ticket

    connection.ensure_connection()
    # What a Celery worker does when it starts (portal.celery): the URLconf imported and its
    # reverse maps built, so that the first sweep does not pay for it (~1-2 s).
    from portal.celery import warm_url_resolver

    warm_url_resolver()
    print("URL resolver warmed before the sweeps, as a worker does at start (portal.celery)")
    sweeps, floors, units = [], [], []
    for run in range(runs):
        floor = WriteFloor("tickets_ticket", "next_sla_check_at <= %s", [now])
        floor.before()
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            done = escalate_lapsed_tickets(now=now, batch_size=batch_size)
            busy = time.perf_counter() - started
        floor.after()
        sweeps.append(busy)
        floors.append(floor.measure())
        units.append(python_unit_ms())
        print(
            f"run {run + 1}: sweep {busy:.3f}s, floor {floors[-1]:.3f}s "
            f"({busy / floors[-1]:.2f}x), python unit {units[-1]} ms; wrote {floor.summary()}"
        )
        print("  floor by statement:", {k: round(v, 3) for k, v in floor.statements.items()})
        if run < runs - 1:
            floor.undo()
    busy = statistics.median(sweeps)
    busy_queries = len(queries.captured_queries)
    idle_times = []
    for _ in range(20):
        with CaptureQueriesContext(connection) as idle_queries:
            started = time.perf_counter()
            nothing = escalate_lapsed_tickets(now=now, batch_size=batch_size)
            idle_times.append(time.perf_counter() - started)
        assert nothing == {}, nothing
    with connection.cursor() as cursor:
        # The idle sweep's one query (tickets.escalation._anything_due), as PostgreSQL ran it.
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT 1 FROM tickets_ticket "
            "WHERE next_sla_check_at <= %s LIMIT 1",
            [now],
        )
        plan = [row[0] for row in cursor.fetchall()]
    return {
        "escalated": done.get("escalated", 0),
        "url_resolver_warmed": True,
        "counts": done,
        "busy_seconds": round(busy, 3),
        "busy_seconds_runs": [round(s, 3) for s in sweeps],
        "floor_seconds": round(statistics.median(floors), 3),
        "floor_seconds_runs": [round(s, 3) for s in floors],
        "sweep_over_floor": ratio(busy, statistics.median(floors)),
        "python_unit_ms": statistics.median(units),
        "wrote": floor.summary(),
        "busy_queries": busy_queries,
        "idle_ms_median": round(statistics.median(idle_times) * 1000, 2),
        "idle_ms_max": round(max(idle_times) * 1000, 2),
        "idle_queries": len(idle_queries.captured_queries),
        "tier_2_tickets": Ticket.objects.filter(tier=2).count(),
        "idle_plan": plan,
    }


if __name__ == "__main__":
    main()
