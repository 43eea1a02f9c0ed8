"""The pure SLA clock's speed: business-time arithmetic the sweeps and pages call per ticket.

    python bench/clock.py [--runs 2000]

No database. Times ``add_open_time`` adding 45 hours (five 9-hour days, across a weekend) on a
Mon-Fri 09:00-18:00 America/New_York calendar, and ``open_time_between`` over the same span,
and reports the median microseconds per call of five rounds. The clock steps by open intervals,
not minutes, so each call should cost well under a millisecond; it exits 1 when the median is
over that budget. (This lived in tests/sla/test_clock.py as a wall-clock assertion, which fails
whenever the machine is busy: timing belongs here, not in the unit tests.)
"""

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sla.clock import BusinessCalendar, add_open_time, open_time_between  # noqa: E402

BUDGET_SECONDS = 0.001


def per_call(function, runs):
    """Median seconds per call over five rounds of ``runs`` calls."""
    rounds = []
    for _ in range(5):
        began = time.perf_counter()
        for _ in range(runs):
            function()
        rounds.append((time.perf_counter() - began) / runs)
    return statistics.median(rounds)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    office = BusinessCalendar.from_hours(
        "America/New_York", {"mon-fri": [["09:00", "18:00"]]}, holidays=["2026-12-25"]
    )
    start = datetime(2026, 3, 4, 11, 0, tzinfo=ZoneInfo("America/New_York"))
    end = add_open_time(office, start, timedelta(hours=45))
    figures = {
        "add_open_time 45h": per_call(
            lambda: add_open_time(office, start, timedelta(hours=45)), args.runs
        ),
        "open_time_between 45h": per_call(lambda: open_time_between(office, start, end), args.runs),
    }
    for name, seconds in figures.items():
        print(f"{name}: {seconds * 1e6:.1f} µs per call (budget {BUDGET_SECONDS * 1e6:.0f} µs)")
    return 0 if all(seconds < BUDGET_SECONDS for seconds in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
