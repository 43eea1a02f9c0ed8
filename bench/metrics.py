"""The success-metrics dashboard over the seeded tickets: a month, a quarter and a year.

    python bench/seed.py --tickets 1000000 [--fresh]
    python bench/metrics.py [--repeat 20]

Uses the database of bench/seed.py (``portal_bench``, or ``BENCH_DATABASE_URL``). Gives the
bench service the roofing plan's targets and, once, an outage incident every nine days over
the seeded two years (for MTBF). Then, for the last whole month, the last whole quarter and the
last whole calendar year, it times a full request of the dashboard as the superuser through
Django's handler (no network; production settings, ``DEBUG`` off) — median and p95 of
``--repeat`` runs after one warm-up — with its SQL query count, the same for the year's CSV
export, and ``build_report`` alone (the aggregates without the page). It prints the plan of the
year's two ticket queries. Results go to ``bench/out/metrics-<tickets>.json``.
"""

import argparse
import json
import os
import random
import statistics
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

# A cache of the process's own: this benchmark needs no Redis.
os.environ.setdefault("BENCH_CACHE_URL", "locmemcache://")

from common import OUT, setup_django  # noqa: E402

INCIDENT_EVERY = timedelta(days=9)


def timed(call, repeat, before=None):
    """Median, p95 and max of ``repeat`` calls after a warm-up; ``before`` runs untimed before
    each call."""
    call()  # warm the connection, the caches and PostgreSQL's buffers
    timings = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "max_ms": round(timings[-1], 1),
    }


def count_queries(call):
    from django.db import connection

    queries = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call()
    return len(queries)


def prepare(service, now):
    """The roofing plan's targets and a history of outages for the bench service (once)."""
    from incidents.models import Incident
    from sla.models import Priority, ServiceTargets

    ServiceTargets.objects.update_or_create(
        service=service,
        defaults={
            "mttr": "4h",
            "mtbf": "720h",
            "first_response_avg": "4h",
            "resolution_rate": 95,
            "csat": "4.5",
        },
    )
    if Incident.objects.filter(service=service).exists():
        return
    severity = Priority.objects.filter(service=service).order_by("position").first()
    started, rows = now - timedelta(days=700), []
    while started < now - timedelta(days=1):
        rows.append(
            Incident(
                service=service,
                severity=severity,
                title="Bench outage",
                started_at=started,
                resolved_at=started + timedelta(hours=2),
                step="review",
            )
        )
        started += INCIDENT_EVERY
    Incident.objects.bulk_create(rows)


def periods_to_measure(today, tz):
    """The last whole month, quarter and year before local ``today``, as the dashboard builds
    them (its own period arithmetic, not a second copy)."""
    from core import periods

    kinds = (periods.MONTH, periods.QUARTER, periods.YEAR)
    return [(kind, periods.containing(kind, today, tz).shifted(-1)) for kind in kinds]


def explain(service, period, now):
    """The plans of the report's reads of the year: the rollup's two and the live count of the
    timers due after ``now``; and, for comparison, the two queries over the tickets that the
    rollup replaces."""
    from django.db import connection
    from django.db.models import DateField, Sum
    from django.db.models.functions import TruncWeek

    from metrics import selectors
    from metrics.models import OpenedDay

    plans = {}
    for name, queryset in (
        (
            "rollup of opened tickets",
            OpenedDay.objects.filter(service=service, day__range=(period.first, period.last))
            .annotate(week=TruncWeek("day", output_field=DateField()))
            .order_by()
            .values("week", "priority_id")
            .annotate(opened=Sum("opened"), responded=Sum("responded")),
        ),
        ("timers due after now", selectors._due_after(service=service, period=period, now=now)),
        (
            "opened, from the tickets",
            selectors.opened_by_week(service=service, period=period, now=now),
        ),
        (
            "resolved, from the tickets",
            selectors.resolved_by_week(service=service, period=period),
        ),
    ):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans[name] = [row[0] for row in cursor.fetchall()]
    return plans


def touch_tickets(service, period, count, rng):
    """Change the rating of ``count`` tickets resolved in ``period`` (a queryset update, as
    the customers' ratings do): their days become stale, and the next report refreshes them."""
    from django.db.models import F

    from tickets.models import Ticket

    resolved = Ticket.objects.filter(
        service=service, resolved_at__gte=period.start, resolved_at__lt=period.end
    )
    low = resolved.order_by("pk").values_list("pk", flat=True).first()
    high = resolved.order_by("-pk").values_list("pk", flat=True).first()
    picks = [rng.randint(low, high) for _ in range(count)]
    Ticket.objects.filter(pk__in=picks, resolved_at__isnull=False).update(rating=6 - F("rating"))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from metrics.report import build_report
    from sla.models import Service
    from tickets.models import Ticket

    now = timezone.now()
    service = Service.objects.get(slug="bench")
    prepare(service, now)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-admin"))
    page = reverse("admin:metrics_successmetrics_changelist")
    export = reverse("admin:metrics_successmetrics_export")
    results = {"tickets_in_table": Ticket.objects.count(), "repeat": args.repeat, "cases": []}
    print(f"{results['tickets_in_table']:,} tickets; {args.repeat} runs each after a warm-up")

    def case(label, url, tickets):
        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        row = {
            "case": label,
            "url": url,
            "tickets_in_period": tickets,
            "queries": count_queries(get),
        }
        row.update(timed(get, args.repeat))
        results["cases"].append(row)
        print(
            f"{label:<28} {tickets:>9,} tickets  {row['queries']:>3} queries  "
            f"median {row['median_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  max {row['max_ms']:>7} ms"
        )

    today = now.astimezone(ZoneInfo(service.timezone)).date()
    for kind, period in periods_to_measure(today, service.timezone):
        value = period.value
        query = f"period={kind}&{kind}={value}"
        tickets = Ticket.objects.filter(
            service=service, created_at__gte=period.start, created_at__lt=period.end
        ).count()
        case(f"page, {kind} {value}", f"{page}?service=bench&{query}", tickets)
        if kind == "year":
            case(f"CSV, {kind} {value}", f"{export}?service=bench&{query}", tickets)
            report_only = timed(
                lambda period=period: build_report(service=service, period=period, now=now),
                args.repeat,
            )
            results["build_report_year_ms"] = report_only
            print(f"{'build_report alone, year':<38} median {report_only['median_ms']:>7} ms")
            results["explain_year"] = explain(service, period, now)
            # The rollup refreshed: ten tickets rated before each request.
            rng = random.Random(2026)
            url = f"{page}?service=bench&{query}"
            touched = timed(
                lambda url=url: client.get(url),
                args.repeat,
                before=lambda period=period, rng=rng: touch_tickets(service, period, 10, rng),
            )
            results["cases"].append({"case": "page, year, 10 tickets rated before", **touched})
            print(
                f"{'page, year, 10 tickets rated before':<52}  median {touched['median_ms']:>7} ms"
                f"  p95 {touched['p95_ms']:>7} ms  max {touched['max_ms']:>7} ms"
            )
    for name, plan in results.get("explain_year", {}).items():
        print(f"\nplan of the year's {name} query:")
        print("\n".join("  " + line for line in plan))
    OUT.mkdir(exist_ok=True)
    path = OUT / f"metrics-{results['tickets_in_table']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
