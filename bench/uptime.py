"""Uptime at scale: the /status/ bars and the admin's monthly report over many incidents.

    python bench/uptime.py [--services 20] [--incidents 40000]

Seeds ``--services`` services (XSafe-like: P0–P3 with uptime targets, a 99.9 % overall target,
a weekly 2-hour window) and ``--incidents`` outage incidents spread over the last two years
(1 minute to 4 hours each, a fifth of them overlapping the one before), then times:

1. ``uptime.reports.status_bars`` (90 days × every service) and ``monthly_report``;
2. ``GET /status/`` and ``GET /admin/uptime/uptimereport/`` through Django's test client,
   with their query counts.

Each figure is the median of 5 runs after one warm-up. Uses its own database (dropped and
recreated each run): BENCH_DATABASE_URL, default ``…/h_uptime_bench``.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h_uptime_bench")
# A cache of the process's own: this benchmark needs no Redis.
os.environ.setdefault("BENCH_CACHE_URL", "locmemcache://")

from common import prepare_database  # noqa: E402

RUNS = 5


def timed(call):
    call()  # warm-up
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def seed(services, incidents, now):
    from incidents.models import Incident
    from maintenance.models import MaintenanceWindow
    from sla.models import Priority, Service, ServiceTargets

    rng = random.Random(6)
    created = []
    for n in range(services):
        service = Service.objects.create(slug=f"bench-{n}", name=f"Bench service {n}")
        ServiceTargets.objects.create(service=service, uptime=Decimal("99.9"))
        Priority.objects.bulk_create(
            Priority(
                service=service,
                code=f"P{p}",
                name=f"P{p}",
                response="1h",
                position=p,
                uptime=Decimal(target) if target else None,
            )
            for p, target in enumerate(("99.99", "99.9", "99.5", None))
        )
        MaintenanceWindow.objects.create(
            service=service,
            name="Scheduled downtime",
            rrule="FREQ=WEEKLY;BYDAY=SU",
            start=clock_time(2, 0),
            duration="2h",
            timezone="UTC",
        )
        created.append(service)
    severities = {}
    for priority in Priority.objects.all():
        severities.setdefault(priority.service_id, []).append(priority.pk)
    rows, previous = [], {}
    for _ in range(incidents):
        service = rng.choice(created)
        if service.pk in previous and rng.random() < 0.2:
            started = previous[service.pk] + timedelta(minutes=rng.randint(1, 30))
        else:
            started = now - timedelta(minutes=rng.randint(1, 2 * 365 * 24 * 60))
        previous[service.pk] = started
        ended = started + timedelta(minutes=rng.randint(1, 240))
        rows.append(
            Incident(
                service=service,
                severity_id=rng.choice(severities[service.pk]),
                title="Bench outage",
                started_at=started,
                resolved_at=ended if ended < now else None,
            )
        )
    Incident.objects.bulk_create(rows, batch_size=5000)
    return created


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--incidents", type=int, default=40_000)
    args = parser.parse_args()
    prepare_database(fresh=True)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from sla.models import Service
    from uptime.reports import monthly_report, status_bars

    now = datetime.now(UTC)
    began = time.perf_counter()
    seed(args.services, args.incidents, now)
    print(
        f"seeded {args.services} services, {args.incidents} incidents "
        f"in {time.perf_counter() - began:.1f} s"
    )
    services = list(Service.objects.order_by("name"))
    first = now.date().replace(day=1)
    print(
        f"status_bars (90 days × {len(services)}): "
        f"{timed(lambda: status_bars(services=services, now=now)) * 1000:.0f} ms"
    )
    print(
        f"monthly_report ({first:%Y-%m}): "
        f"{timed(lambda: monthly_report(services=services, first=first, now=now)) * 1000:.0f} ms"
    )

    client = Client()
    admin = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "x")
    staff = Client()
    staff.force_login(admin)
    for name, who, url in [
        ("GET /status/", client, "/status/"),
        ("GET admin monthly report", staff, "/admin/uptime/uptimereport/"),
    ]:
        assert who.get(url).status_code == 200
        connection.force_debug_cursor = True
        connection.queries_log.clear()
        who.get(url)
        queries = list(connection.queries)
        connection.force_debug_cursor = False
        print(
            f"{name}: {timed(lambda who=who, url=url: who.get(url)) * 1000:.0f} ms, "
            f"{len(queries)} queries"
        )


if __name__ == "__main__":
    main()
