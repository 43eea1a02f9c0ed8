"""A burst of Alertmanager alerts through the real hook, under gunicorn (issue 12's target).

    python bench/alerts.py [--alerts 10000] [--groups 100] [--per-request 1] [--rate 500]

Seeds its own database (``portal_bench_alerts``, or ``BENCH_DATABASE_URL``) with one service
whose plan has an Alertmanager hook and a PagerDuty destination for ``incident.opened``, starts
gunicorn (``gunicorn.conf.py``: 2 × cores + 1 workers) and posts ``--alerts`` firing alerts in
``--groups`` groups (distinct fingerprints), ``--per-request`` alerts per Alertmanager webhook
delivery, open loop at ``--rate`` alerts per second: requests leave on a fixed schedule whatever
the server does, and each latency counts from the moment its request was due (no coordinated
omission). Then it checks the target: every alert accepted (200), exactly ``--groups``
incidents, one ``incident.opened`` page per incident recorded within 10 s of its group's first
alert, and reports achieved alerts/s and the hook's p50/p95/p99. Results go to
``bench/out/alerts.json``. All traffic stays on 127.0.0.1; pages are recorded, not sent (the
broker is in memory).
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_alerts"
)

from common import BENCH_ENV, OUT, ROOT, prepare_database  # noqa: E402

PORT = 8613  # not bench/load.py's 8011 or another bench's 8013
TOKEN = "bench-alerts-token-0123456789"
SECRETS = {"BENCH_ALERTS_TOKEN": TOKEN, "BENCH_PAGERDUTY_KEY": "bench-routing-key"}
PLAN = """
service: {slug: bench-alerts, name: Bench alerts}
priorities:
  - {code: P0, name: Critical, response: 15m, resolution: 4h}
  - {code: P1, name: High, response: 1h}
tiers:
  - {level: 1, name: Helpdesk}
alerts:
  - name: prom
    source: alertmanager
    secret_env: BENCH_ALERTS_TOKEN
    severity: P1
    severity_map: {critical: P0}
  - name: warm                # the warm-up's hook: each gunicorn worker's first requests
    source: alertmanager
    secret_env: BENCH_ALERTS_TOKEN
    severity: P1
notify:
  - name: pager
    kind: pagerduty
    secret_env: BENCH_PAGERDUTY_KEY
    events: [incident.opened]
"""


def seed():
    from incidents.models import Incident
    from sla.plan import parse_plan
    from sla.plan.apply import plans_apply

    os.environ.update(SECRETS)
    if Incident.objects.exists():
        sys.exit("the benchmark database is not empty: run with --fresh")
    plans_apply(plans=[parse_plan(PLAN, "bench-alerts.yaml")])


def bodies(n_alerts, n_groups, per_request):
    """The webhook deliveries, in sending order: groups interleaved, as a real burst is."""
    per_group = n_alerts // n_groups
    deliveries = []
    for start in range(0, per_group, per_request):
        for group in range(n_groups):
            fingerprints = [
                f"g{group:03d}-a{index:05d}"
                for index in range(start, min(start + per_request, per_group))
            ]
            deliveries.append(
                json.dumps(
                    {
                        "version": "4",
                        "groupKey": f'{{}}:{{alertname="bench-{group:03d}"}}',
                        "truncatedAlerts": 0,
                        "status": "firing",
                        "receiver": "portal",
                        "groupLabels": {"alertname": f"bench-{group:03d}"},
                        "commonLabels": {"alertname": f"bench-{group:03d}"},
                        "commonAnnotations": {"summary": f"Bench group {group:03d} failing"},
                        "externalURL": "http://alertmanager.example.com:9093",
                        "alerts": [
                            {
                                "status": "firing",
                                "labels": {
                                    "alertname": f"bench-{group:03d}",
                                    "severity": "critical",
                                    "instance": fingerprint,
                                },
                                "annotations": {"summary": f"{fingerprint} failing"},
                                "startsAt": "2026-12-03T08:00:00Z",
                                "endsAt": "0001-01-01T00:00:00Z",
                                "fingerprint": fingerprint,
                            }
                            for fingerprint in fingerprints
                        ],
                    }
                ).encode()
            )
    return deliveries


async def post(body, pool, hook="prom"):
    """POST on a kept-alive connection; one gunicorn closed while idle (its keepalive is a
    few seconds) is retried once on a new one."""
    if not pool.empty():
        try:
            return await _post(body, pool, hook, pool.get_nowait())
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
    return await _post(body, pool, hook, await asyncio.open_connection("127.0.0.1", PORT))


async def _post(body, pool, hook, connection):
    reader, writer = connection
    writer.write(
        b"POST /hooks/alerts/bench-alerts/" + hook.encode() + b"/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: keep-alive\r\n\r\n" + body
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


async def warm_up(deliveries):
    """Each worker's first requests cost seconds (imports, connections): not the hook's speed."""
    pool = asyncio.Queue()
    for body in deliveries:
        await post(body, pool, hook="warm")
        await asyncio.sleep(0.05)


async def burst(deliveries, per_request, rate):
    pool = asyncio.Queue()
    request_rate = rate / per_request
    latencies, statuses, errors = [], {}, 0
    start = time.perf_counter() + 0.5

    async def one(index, body):
        nonlocal errors
        due = start + index / request_rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        try:
            status = await asyncio.wait_for(post(body, pool), timeout=30)
        except Exception:
            errors += 1
            return
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one(i, body) for i, body in enumerate(deliveries)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1)

    accepted = statuses.get(200, 0) * per_request
    return {
        "requests": len(deliveries),
        "statuses": statuses,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "alerts_accepted_per_s": round(accepted / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1),
    }


def check(n_groups):
    from django.db.models import Min

    from alerts.models import Alert, AlertGroup
    from incidents.models import Incident
    from paging.models import Delivery

    first_seen = dict(
        Alert.objects.filter(hook__name="prom")
        .values("group__incident_id")
        .annotate(first=Min("first_seen_at"))
        .values_list("group__incident_id", "first")
    )
    pages = Delivery.objects.filter(event="incident.opened")
    lags = []
    for key, created in pages.values_list("key", "created_at"):
        incident_id = int(key.split(":")[1])
        if incident_id in first_seen:
            lags.append((created - first_seen[incident_id]).total_seconds())
    incidents = Incident.objects.filter(alert_groups__hook__name="prom").distinct().count()
    alerts = Alert.objects.filter(hook__name="prom")
    return {
        "incidents": incidents,
        "groups": AlertGroup.objects.filter(hook__name="prom").count(),
        "alerts_stored": alerts.count(),
        "alert_deliveries_counted": sum(alerts.values_list("count", flat=True)),
        "pages_recorded": len(lags),
        "page_lag_max_s": round(max(lags), 3) if lags else None,
        "exactly_one_incident_per_group": incidents == n_groups,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--per-request", type=int, default=1)
    parser.add_argument("--rate", type=int, default=500, help="alerts per second offered")
    parser.add_argument("--workers", type=int, default=0, help="0: gunicorn.conf.py's default")
    args = parser.parse_args()
    prepare_database(fresh=True)
    seed()
    deliveries = bodies(args.alerts, args.groups, args.per_request)
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "portal.wsgi",
        "--config=gunicorn.conf.py",
        f"--bind=127.0.0.1:{PORT}",
        "--log-level=warning",
    ]
    if args.workers:
        command.append(f"--workers={args.workers}")
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **BENCH_ENV, **SECRETS})
    try:
        for _ in range(150):  # until gunicorn listens
            if server.poll() is not None:
                sys.exit(f"gunicorn did not start (port {PORT} in use?)")
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        asyncio.run(warm_up(bodies(60, 3, 1)))
        result = asyncio.run(burst(deliveries, args.per_request, args.rate))
        print(json.dumps(result), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    result.update(check(args.groups))
    result.update(
        alerts=args.alerts,
        groups=args.groups,
        per_request=args.per_request,
        rate_offered=args.rate,
        cpu_count=os.cpu_count(),
        load_avg_before_after=os.getloadavg(),
    )
    print(json.dumps(result, indent=2))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"alerts-{args.per_request}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
