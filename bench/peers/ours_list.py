"""Our side of the peers' ticket list: the admin ticket changelist's first page for a
superuser over bench/peers/django_helpdesk.py's database, median of ``--repeat`` requests
through Django's handler (as bench/pages.py), and its queries. Prints one JSON line."""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import setup_django  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    admin, _ = get_user_model().objects.get_or_create(
        username="bench-peers-admin",
        defaults={"email": "bench-peers-admin@example.com", "is_staff": True, "is_superuser": True},
    )
    client = Client()
    client.force_login(admin)
    path = "/admin/tickets/ticket/"
    assert client.get(path).status_code == 200
    queries = []  # counted by a wrapper: request_started resets connection.queries

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(path)
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    print(
        json.dumps(
            {
                "median_ms": round(statistics.median(timings), 1),
                "queries": len(queries),
            }
        )
    )


if __name__ == "__main__":
    main()
