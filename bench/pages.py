"""Server time and query count of the heaviest pages over the seeded tables.

    python bench/pages.py [--repeat 30]

For "my tickets" (a customer with ~50 tickets vs one with 1) and the admin ticket changelist
(a Tier 1 member and a superuser), prints the median and p95 time of a full request through
Django's handler (no network) and the number of SQL queries. Run bench/seed.py first.
"""

import argparse
import json
import statistics
import time

from common import OUT, setup_django


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
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    return {
        "path": path,
        "queries": len(queries),
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
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
        ("admin changelist, Tier 1", "bench-tier1", "/admin/tickets/ticket/"),
        ("admin changelist, superuser", "bench-admin", "/admin/tickets/ticket/"),
        ("admin changelist, status filter", "bench-admin", "/admin/tickets/ticket/?status=open"),
        ("admin changelist, search #id", "bench-admin", "/admin/tickets/ticket/?q=%23500000"),
    ]
    rows = []
    for label, username, path in cases:
        user = users.get(username=username)
        if path is None:
            path = f"/tickets/{Ticket.objects.filter(customer=user).order_by('-id').first().pk}/"
        client = Client()
        client.force_login(user)
        row = {"case": label, **measure(client, path, args.repeat)}
        rows.append(row)
        print(
            f"{label:<34} {row['queries']:>3} queries  median {row['median_ms']:>6} ms  "
            f"p95 {row['p95_ms']:>6} ms"
        )
    results["pages"] = rows
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pages.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
