"""Side by side with django-helpdesk: the same tickets, its escalation and our SLA sweep, and
the staff's and a customer's ticket lists over them.

    python bench/peers/django_helpdesk.py [--tickets 100000] [--lapsed 10000]
        [--customer-tickets 30] [--repeat 10] [--db-prefix portal_bench_peers] [--out FILE]

Installs django-helpdesk (the current release from PyPI) in its own virtualenv,
``var/peers-helpdesk`` (not in our locks: it is only measured, never imported by the portal),
the first time. Both systems get N open tickets with the same priority (high), ages and due
dates, L of them past due and two people to email about each. Ours: bench/sla_sweep.py's seed
and sweep (one run; its database ``<db-prefix>``); theirs: ``manage.py escalate_tickets`` over
``<db-prefix>_helpdesk`` (bench/peers/helpdesk_side.py). Prints time, queries, escalations and
emails of each, and the ratios per escalated ticket. Then, median of ``--repeat`` requests
through Django's handler each, time and queries (bench/peers/page_timing.py):

- the staff ticket list's first page: django-helpdesk's datatable (the JSON its list page
  loads), our admin changelist (bench/peers/ours_list.py), a superuser on each;
- a customer's ticket list: one customer given the same ``--customer-tickets`` tickets on both
  sides (bench/peers/customer_plan.py), signed in, not staff: django-helpdesk's "My Tickets"
  page plus the API request with the tickets its script makes (both: the list is on screen
  after the second), our "my tickets" page; the first 25 on each.

Writes ``--out`` (default ``bench/out/peers-helpdesk.json``; its "table" rows join
bench/run.py's table) and our sweep's own figures beside it (``<out>-our-sweep.json``).

What differs, and cannot be made the same: django-helpdesk escalates by age in whole days
(``Queue.escalate_days``, here 1), ours by deadline; so its past-due tickets are 1 day 2 hours
old and ours 2 hours old, past a 1-hour deadline. Each escalates every one of them once.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / "var" / "peers-helpdesk"
OUT = ROOT / "bench" / "out"
BASE = "postgres://postgres@127.0.0.1:5432"


def ensure_venv():
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import helpdesk"], capture_output=True)
    if probe.returncode:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "django-helpdesk", "psycopg[binary]"],
            check=True,
        )
    version = subprocess.run(
        [str(python), "-m", "pip", "show", "django-helpdesk"], capture_output=True, text=True
    ).stdout
    return python, next(
        (
            line.split(":", 1)[1].strip()
            for line in version.splitlines()
            if line.startswith("Version")
        ),
        "?",
    )


def fresh_database(name):
    """Drop and create ``name`` (the peer's database; ours is bench/sla_sweep.py's --fresh)."""
    import psycopg

    with psycopg.connect(
        f"{BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--lapsed", type=int, default=10_000)
    parser.add_argument(
        "--customer-tickets", type=int, default=30, help="the timed customer's tickets"
    )
    parser.add_argument("--repeat", type=int, default=10, help="requests of each list (median)")
    parser.add_argument(
        "--db-prefix",
        default="portal_bench_peers",
        help="our database's name; the peer's is this with _helpdesk after it",
    )
    parser.add_argument("--out", default=str(OUT / "peers-helpdesk.json"))
    args = parser.parse_args()
    python, version = ensure_venv()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ours_db = f"{BASE}/{args.db_prefix}"
    theirs_db = f"{ours_db}_helpdesk"
    lists = ["--repeat", str(args.repeat), "--customer-tickets", str(args.customer_tickets)]

    fresh_database(theirs_db.rsplit("/", 1)[1])
    theirs = last_json_line(
        [
            str(python),
            str(HERE / "helpdesk_side.py"),
            "--tickets",
            str(args.tickets),
            "--lapsed",
            str(args.lapsed),
            *lists,
        ],
        cwd=HERE,
        env={**os.environ, "PEER_DATABASE_URL": theirs_db},
    )
    sweep_out = out.with_name(f"{out.stem}-our-sweep.json")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "sla_sweep.py"),
            "--tickets",
            str(args.tickets),
            "--lapsed",
            str(args.lapsed),
            "--runs",
            "1",
            "--fresh",
            "--out",
            str(sweep_out),
        ],
        check=True,
        cwd=ROOT,  # not bench/: Celery's Django fixup puts the cwd first on sys.path
        env={**os.environ, "BENCH_DATABASE_URL": ours_db},
    )
    our_lists = last_json_line(
        [sys.executable, str(HERE / "ours_list.py"), *lists],
        cwd=ROOT,
        env={**os.environ, "BENCH_DATABASE_URL": ours_db},
    )
    sweep = json.loads(sweep_out.read_text())
    ours = {
        "seconds": sweep["busy_seconds"],
        "queries": sweep["busy_queries"],
        "escalated": sweep["escalated"],
        "emails": sweep["counts"].get("emails", 0),
        "floor_seconds": sweep["floor_seconds"],
        "list": {k: v for k, v in our_lists.items() if k != "customer"},
        "customer_list": our_lists["customer"],
    }
    result = compare(theirs, ours, version, args)
    out.write_text(json.dumps(result, indent=2) + "\n")
    for row in result["table"]:
        print(" | ".join(str(cell) for cell in row))


def last_json_line(command, **kwargs):
    completed = subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def compare(theirs, ours, version, args):
    """The result file: both sides' figures, the ratios, and the rows of bench/run.py's table
    (benchmark, figure, baseline, ratio, target)."""
    for side in (theirs, ours):
        side["ms_per_escalated"] = round(1000 * side["seconds"] / max(1, side["escalated"]), 3)
        side["queries_per_escalated"] = round(side["queries"] / max(1, side["escalated"]), 3)
    result = {
        "django_helpdesk_version": version,
        "tickets": args.tickets,
        "lapsed": args.lapsed,
        "customer_tickets": args.customer_tickets,
        "repeat": args.repeat,
        "django_helpdesk": theirs,
        "ours": ours,
        "faster_per_escalated_ticket": ratio(theirs["ms_per_escalated"], ours["ms_per_escalated"]),
        "fewer_queries_per_escalated_ticket": ratio(
            theirs["queries_per_escalated"], ours["queries_per_escalated"]
        ),
        "staff_list_faster": ratio(theirs["list"]["median_ms"], ours["list"]["median_ms"]),
        "staff_list_fewer_queries": ratio(theirs["list"]["queries"], ours["list"]["queries"]),
        "customer_list_faster": ratio(
            theirs["customer_list"]["median_ms"], ours["customer_list"]["median_ms"]
        ),
        "customer_list_fewer_queries": ratio(
            theirs["customer_list"]["queries"], ours["customer_list"]["queries"]
        ),
    }
    size = f"{args.tickets:,} tickets"
    customer = f"a customer's {args.customer_tickets} of {size}"

    def sweep(side):
        return (
            f"{side['seconds']} s, {side['queries']:,} queries, {side['escalated']:,} escalated, "
            f"{side['emails']:,} emails ({side['ms_per_escalated']} ms, "
            f"{side['queries_per_escalated']} queries each)"
        )

    def page(side, name):
        return f"{side[name]['median_ms']} ms, {side[name]['queries']} queries"

    result["table"] = [
        (f"Peer: django-helpdesk {version} escalate_tickets, {size}", sweep(theirs), "", "", ""),
        (
            f"Peer: our SLA sweep, {size}",
            sweep(ours),
            "django-helpdesk per escalated ticket",
            f"{faster(theirs['ms_per_escalated'], ours['ms_per_escalated'])}, "
            f"{result['fewer_queries_per_escalated_ticket']}x fewer queries",
            ">= 100x",
        ),
        (
            f"Peer: django-helpdesk staff list (datatable), {size}",
            page(theirs, "list"),
            "",
            "",
            "",
        ),
        (
            f"Peer: our staff list (admin changelist), {size}",
            page(ours, "list"),
            "django-helpdesk's datatable",
            f"{faster(theirs['list']['median_ms'], ours['list']['median_ms'])}, "
            f"{result['staff_list_fewer_queries']}x fewer queries",
            "",
        ),
        (
            f"Peer: django-helpdesk My Tickets (page + API), {customer}",
            page(theirs, "customer_list"),
            "",
            "",
            "",
        ),
        (
            f"Peer: our my tickets, {customer}",
            page(ours, "customer_list"),
            "django-helpdesk's My Tickets",
            f"{faster(theirs['customer_list']['median_ms'], ours['customer_list']['median_ms'])}, "
            f"{result['customer_list_fewer_queries']}x fewer queries",
            "",
        ),
    ]
    return result


def ratio(theirs, ours):
    return round(theirs / ours, 1) if ours else None


def faster(theirs, ours):
    """Our time against theirs in words: "3.2x faster", or "2.0x slower"."""
    if not (theirs and ours):
        return "n/a"
    return f"{ratio(theirs, ours)}x faster" if theirs >= ours else f"{ratio(ours, theirs)}x slower"


if __name__ == "__main__":
    main()
