"""Server time and query count of the heaviest pages over the seeded tables.

    python bench/pages.py [--repeat 30] [--customer-only] [--profile "home"]

For "my tickets" (a customer with ~50 tickets vs one with 1), a ticket, the home page, the new
ticket form and the admin ticket changelist (a Tier 1 member and a superuser; left out with
``--customer-only``), prints the median and p95 time of a full request through
Django's handler (no network) and the number of SQL queries. Run bench/seed.py first.

Baselines measured in the same run (bench/common.py): the minimal signed-in view
(``/bench/minimal/``, same client, same middleware) for the same customer, and a fixed unit of
Python work; each page's median is printed as a ratio to the minimal view's (target for the
customer's pages: <= 2).
"""

import argparse
import json
import statistics
import time

from common import MINIMAL_VIEW_PATH, OUT, print_report, python_unit_ms, ratio, setup_django


def measure(client, path, repeat):
    from django.db import connection

    client.get(path)  # warm caches and the connection
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    timings, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200
    timings.sort()
    return {
        "path": path,
        "queries": len(queries),
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        # This process's CPU only (not PostgreSQL's, not the wait): steadier than the wall
        # time on a loaded machine, and what a web worker spends per page.
        "cpu_ms": round(statistics.median(cpu), 2),
    }


def profile(client, path, repeat, limit=45):
    """cProfile of ``repeat`` requests of ``path`` (after one warm-up): where a page's time
    goes, function by function, sorted by own time and by cumulative time."""
    import cProfile
    import pstats

    client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        client.get(path)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        pstats.Stats(profiler).strip_dirs().sort_stats(order).print_stats(limit)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--profile",
        metavar="CASE",
        help="profile the pages whose name starts with CASE (e.g. 'home') instead of timing",
    )
    parser.add_argument(
        "--customer-only",
        action="store_true",
        help="only the customer's pages and the minimal view (no admin changelists)",
    )
    args = parser.parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tickets.models import Ticket

    users = get_user_model().objects
    results = {"tickets_in_table": Ticket.objects.count()}
    cases = [
        ("my tickets, 1 ticket", "bench-small@example.com", "/tickets/"),
        ("my tickets, ~50 tickets", "bench1@example.com", "/tickets/"),
        ("my tickets, page 2", "bench1@example.com", "/tickets/?page=2"),
        ("my tickets, active filter", "bench1@example.com", "/tickets/?status=active"),
        ("ticket detail", "bench1@example.com", None),
        ("home", "bench1@example.com", "/"),
        ("new ticket form", "bench1@example.com", "/tickets/new/"),
        ("admin changelist, Tier 1", "bench-tier1", "/admin/tickets/ticket/"),
        ("admin changelist, superuser", "bench-admin", "/admin/tickets/ticket/"),
        ("admin changelist, status filter", "bench-admin", "/admin/tickets/ticket/?status=open"),
        ("admin changelist, search #id", "bench-admin", "/admin/tickets/ticket/?q=%23500000"),
    ]
    if args.customer_only:
        cases = [case for case in cases if not case[0].startswith("admin")]
    rows = []
    cases.insert(0, ("minimal signed-in view (baseline)", "bench1@example.com", MINIMAL_VIEW_PATH))
    for label, username, path in cases:
        user = users.get(username=username)
        if path is None:
            path = f"/tickets/{Ticket.objects.filter(customer=user).order_by('-id').first().pk}/"
        client = Client()
        client.force_login(user)
        if args.profile:
            if label.startswith(args.profile):
                print(f"== profile of {label} ({path}), {args.repeat} requests")
                profile(client, path, args.repeat)
            continue
        row = {"case": label, **measure(client, path, args.repeat)}
        rows.append(row)
        print(
            f"{label:<34} {row['queries']:>3} queries  median {row['median_ms']:>6} ms  "
            f"p95 {row['p95_ms']:>6} ms  cpu {row['cpu_ms']:>6} ms"
        )
    if args.profile:
        return
    results["pages"] = rows
    minimal = rows[0]["median_ms"]
    unit = python_unit_ms()
    results["baselines"] = {"minimal_view_ms": minimal, "python_unit_ms": unit}
    minimal_cpu = rows[0]["cpu_ms"]
    results["baselines"]["minimal_view_cpu_ms"] = minimal_cpu
    for row in rows:
        row["over_minimal_view"] = ratio(row["median_ms"], minimal)
        row["cpu_over_minimal_view"] = ratio(row["cpu_ms"], minimal_cpu)
    print_report(
        f"Pages, {results['tickets_in_table']:,} tickets (median of {args.repeat})",
        {row["case"]: f"{row['median_ms']} ms, {row['queries']} queries" for row in rows[1:]},
        {"minimal signed-in view ms": minimal, "python unit ms": unit},
        {
            f"{row['case']} / minimal view"
            + (" (target <= 2)" if not row["case"].startswith("admin") else ""): row[
                "over_minimal_view"
            ]
            for row in rows[1:]
        }
        | {f"{row['case']} / minimal view, CPU": row["cpu_over_minimal_view"] for row in rows[1:]},
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pages.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
