"""Side by side with django-helpdesk: the same tickets, its escalation and our SLA sweep.

    python bench/peers/django_helpdesk.py [--tickets 100000] [--lapsed 10000]

Installs django-helpdesk (the current release from PyPI) in its own virtualenv,
``var/peers-helpdesk`` (not in our locks: it is only measured, never imported by the portal),
the first time. Both systems get N open tickets with the same priority (high), ages and due
dates, L of them past due and two people to email about each. Ours: bench/sla_sweep.py's seed
and sweep (one run; its database ``portal_bench_peers``); theirs: ``manage.py
escalate_tickets`` over ``portal_bench_peers_helpdesk`` (bench/peers/helpdesk_side.py). Prints
time, queries, escalations and emails of each, and the ratios per escalated ticket; then the
staff ticket list's first page on each (django-helpdesk's datatable, our admin changelist,
bench/peers/ours_list.py), time and queries; writes
``bench/out/peers-helpdesk.json`` (its rows join bench/run.py's table).

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
    args = parser.parse_args()
    python, version = ensure_venv()

    fresh_database("portal_bench_peers_helpdesk")
    theirs = json.loads(
        subprocess.run(
            [
                str(python),
                str(HERE / "helpdesk_side.py"),
                "--tickets",
                str(args.tickets),
                "--lapsed",
                str(args.lapsed),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=HERE,
            env={**os.environ, "PEER_DATABASE_URL": f"{BASE}/portal_bench_peers_helpdesk"},
        )
        .stdout.strip()
        .splitlines()[-1]
    )
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
            str(OUT / "peers-ours.json"),
        ],
        check=True,
        cwd=ROOT,  # not bench/: Celery's Django fixup puts the cwd first on sys.path
        env={**os.environ, "BENCH_DATABASE_URL": f"{BASE}/portal_bench_peers"},
    )
    our_list = json.loads(
        subprocess.run(
            [sys.executable, str(HERE / "ours_list.py")],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "BENCH_DATABASE_URL": f"{BASE}/portal_bench_peers"},
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    ours = json.loads((OUT / "peers-ours.json").read_text())
    ours = {
        "list": our_list,
        "seconds": ours["busy_seconds"],
        "queries": ours["busy_queries"],
        "escalated": ours["escalated"],
        "emails": ours["counts"].get("emails", 0),
        "floor_seconds": ours["floor_seconds"],
    }
    per_theirs = theirs["seconds"] / max(1, theirs["escalated"])
    per_ours = ours["seconds"] / max(1, ours["escalated"])
    result = {
        "django_helpdesk_version": version,
        "tickets": args.tickets,
        "lapsed": args.lapsed,
        "django_helpdesk": theirs,
        "ours": ours,
        "faster_per_escalated_ticket": round(per_theirs / per_ours, 1),
        "fewer_queries": round(theirs["queries"] / max(1, ours["queries"]), 1),
    }
    label = f"{args.tickets:,} tickets"
    result["table"] = [
        (
            f"Peer: django-helpdesk {version} escalate_tickets, {label}",
            f"{theirs['seconds']} s, {theirs['queries']:,} queries, "
            f"{theirs['escalated']:,} escalated, {theirs['emails']:,} emails",
            "",
            "",
            "",
        ),
        (
            f"Peer: our SLA sweep, {label}",
            f"{ours['seconds']} s, {ours['queries']:,} queries, "
            f"{ours['escalated']:,} escalated, {ours['emails']:,} emails",
            "django-helpdesk per escalated ticket",
            f"{result['faster_per_escalated_ticket']}x faster",
            ">= 100x",
        ),
        (
            f"Peer: django-helpdesk ticket datatable, first page, {label}",
            f"{theirs['list']['median_ms']} ms, {theirs['list']['queries']} queries",
            "",
            "",
            "",
        ),
        (
            f"Peer: our admin ticket list, first page, {label}",
            f"{our_list['median_ms']} ms, {our_list['queries']} queries",
            "django-helpdesk's datatable",
            f"{round(theirs['list']['median_ms'] / our_list['median_ms'], 1)}x faster",
            "",
        ),
    ]
    OUT.mkdir(exist_ok=True)
    (OUT / "peers-helpdesk.json").write_text(json.dumps(result, indent=2) + "\n")
    for row in result["table"]:
        print(" | ".join(str(cell) for cell in row))
    print(f"queries: {result['fewer_queries']}x fewer")


if __name__ == "__main__":
    main()
