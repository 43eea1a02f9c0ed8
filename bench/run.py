"""Run the benchmarks and print one table: each figure beside its same-run baseline, the ratio
and the target (docs/performance.md, "Baselines").

python bench/run.py [--full] [--fresh] [--inbound] [--peers]

By default the sizes are small, so the whole run takes a few minutes on a loaded machine and
gives the ratios (20,000 tickets; the sweep 2,000 lapsed among 20,000, one run; 10 requests a
page; 10 s of load at 50/s and 10 s of closed-loop throughput each). ``--full`` uses the sizes
of the targets (1,000,000 tickets; the sweep 10,000 lapsed among 1,000,000, median of 3; 30
requests a page; 60 s at 200/s and 30 s closed loop). The seeded databases are kept between
runs unless ``--fresh``; the sweep's is always rebuilt (a sweep changes it).

``--inbound`` also runs bench/inbound.py (10,000 emails through IMAP, three runs): it needs
Dovecot (``apt-get install dovecot-imapd``) and root, so it is not part of the default run.
``--peers`` also runs bench/peers/django_helpdesk.py (django-helpdesk side by side: the
escalation sweep, the staff's and a customer's ticket lists; 10,000 tickets, 1,000 past due, or
100,000 and 10,000 with ``--full``; it installs django-helpdesk in its own virtualenv under var/
the first time). ``BENCH_PEERS_DB_PREFIX`` names its two databases (default
``portal_bench_peers``, and the same with ``_helpdesk``).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

SMALL = {
    "tickets": 20_000,
    "sweep": (20_000, 2_000, 1),
    "repeat": 10,
    "load": (50, 10, 10),
    "peers": (10_000, 1_000),
}
FULL = {
    "tickets": 1_000_000,
    "sweep": (1_000_000, 10_000, 3),
    "repeat": 30,
    "load": (200, 60, 30),
    "peers": (100_000, 10_000),
}


def run(script, *args, env=None):
    # From the project's root: Celery's Django fixup puts the working directory first on
    # sys.path, and in bench/ the benchmarks' own modules (inbound.py) would shadow the apps.
    subprocess.run(
        [sys.executable, str(HERE / script), *map(str, args)],
        check=True,
        cwd=HERE.parent,
        env={**os.environ, **(env or {})},
    )


def table(sizes):
    """Rows (benchmark, figure, baseline, ratio, target) from the benchmarks' JSON output."""
    rows = []
    sweep = json.loads((OUT / f"sla_sweep-{sizes['sweep'][0]}.json").read_text())
    rows.append(
        (
            f"SLA sweep, {sweep['lapsed']:,} lapsed of {sweep['tickets']:,}",
            f"{sweep['busy_seconds']} s, {sweep['busy_queries']} queries",
            f"floor {sweep['floor_seconds']} s",
            sweep["sweep_over_floor"],
            "<= 2",
        )
    )
    pages = json.loads((OUT / "pages.json").read_text())
    minimal = pages["baselines"]["minimal_view_ms"]
    for page in pages["pages"][1:]:
        customer = "my tickets" in page["case"] or "detail" in page["case"]
        rows.append(
            (
                page["case"],
                f"{page['median_ms']} ms, {page['queries']} queries",
                f"minimal view {minimal} ms",
                page["over_minimal_view"],
                "<= 2" if customer else "",
            )
        )
    load = json.loads((OUT / "load.json").read_text())
    capacity = load["capacity"]
    rows.append(
        (
            "Load: customer mix, closed loop",
            f"{capacity['customer_mix']['rps']} req/s",
            f"minimal view {capacity['minimal_view']['rps']} req/s",
            load["mix_over_minimal_view"],
            ">= 0.8",
        )
    )
    rows.append(
        (
            f"Load: open loop {load['rate_target']}/s",
            f"{load['achieved_rate']}/s, p95 {load['p95_ms']} ms",
            "",
            "",
            "",
        )
    )
    units = [sweep["python_unit_ms"], pages["baselines"]["python_unit_ms"], load["python_unit_ms"]]
    rows.append(
        ("Python work unit (sweep, pages, load)", " / ".join(f"{u} ms" for u in units), "", "", "")
    )
    peers = OUT / "peers-helpdesk.json"
    if peers.exists():
        for row in json.loads(peers.read_text())["table"]:
            rows.append(tuple(row))
    return rows


def print_table(rows):
    head = ("benchmark", "figure", "same-run baseline", "ratio", "target")
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(5)]
    line = "  ".join("{:<" + str(width) + "}" for width in widths)
    print()
    print(line.format(*head))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*(str(cell) for cell in row)))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the targets' sizes (long)")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--inbound", action="store_true", help="also bench/inbound.py")
    parser.add_argument("--peers", action="store_true", help="also bench/peers/django_helpdesk.py")
    args = parser.parse_args()
    sizes = FULL if args.full else SMALL
    run("clock.py")
    run("seed.py", "--tickets", sizes["tickets"], *(["--fresh"] if args.fresh else []))
    run("pages.py", "--repeat", sizes["repeat"])
    rate, seconds, capacity = sizes["load"]
    run("load.py", "--rate", rate, "--seconds", seconds, "--capacity-seconds", capacity)
    tickets, lapsed, runs = sizes["sweep"]
    # The sweep's own database, rebuilt each time (a sweep changes it).
    sweep_db = os.environ.get(
        "BENCH_SWEEP_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_sweep"
    )
    run(
        "sla_sweep.py",
        "--tickets",
        tickets,
        "--lapsed",
        lapsed,
        "--runs",
        runs,
        "--fresh",
        env={"BENCH_DATABASE_URL": sweep_db},
    )
    if args.peers:
        tickets, lapsed = sizes["peers"]
        run(
            "peers/django_helpdesk.py",
            "--tickets",
            tickets,
            "--lapsed",
            lapsed,
            "--repeat",
            sizes["repeat"],
            "--db-prefix",
            os.environ.get("BENCH_PEERS_DB_PREFIX", "portal_bench_peers"),
        )
    if args.inbound:
        run("inbound.py")
    print_table(table(sizes))


if __name__ == "__main__":
    main()
