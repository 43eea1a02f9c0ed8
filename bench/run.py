"""Run the benchmarks end to end: time the pure SLA clock, seed 1,000,000 tickets, time pages,
load-test gunicorn.

python bench/run.py [--tickets 1000000] [--fresh] [--inbound]

``--inbound`` also runs bench/inbound.py (10,000 emails through IMAP, three runs): it needs
Dovecot (``apt-get install dovecot-imapd``) and root, so it is not part of the default run.
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--inbound", action="store_true", help="also bench/inbound.py")
    args = parser.parse_args()
    subprocess.run([sys.executable, str(HERE / "clock.py")], check=True)
    seed = [sys.executable, str(HERE / "seed.py"), "--tickets", str(args.tickets)]
    subprocess.run(seed + (["--fresh"] if args.fresh else []), check=True)
    subprocess.run([sys.executable, str(HERE / "pages.py")], check=True)
    subprocess.run([sys.executable, str(HERE / "load.py")], check=True)
    if args.inbound:
        subprocess.run([sys.executable, str(HERE / "inbound.py")], check=True)


if __name__ == "__main__":
    main()
