"""`make run` stops when told: one SIGTERM or SIGINT (Ctrl-C) to its process group ends the web
server, the Celery worker and beat, frees the port, and starts nothing again.

Each case runs the real `make run` (migrate, plans, demo data, then honcho) in a copy of the
working tree, so its SQLite database and broker folder under `var/` are its own, on a free port.
Every process it starts carries a marker in its environment, which children inherit even when
honcho puts them in sessions of their own: no process may carry it once the stop is done.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Copied trees never include these: the virtualenv is linked, the rest is local state.
NOT_COPIED = {".git", ".venv", "var", "__pycache__", ".hypothesis", ".ruff_cache", "node_modules"}
# A first `make run` migrates, loads three plans and seeds demo data in every state (tickets,
# maintenance, incidents): half a minute on a quiet box, well over a minute on a shared busy one.
# This bounds waiting only; what the test pins is the stop.
STARTUP_SECONDS = 180
STOP_SECONDS = 20  # honcho sends SIGTERM, then SIGKILL after 5 s to what still runs
SETTLE_SECONDS = 4  # the old recipe's fallback started a second stack seconds after the stop


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """The working tree copied (Makefile, Procfile, code, plans), sharing the project's
    virtualenv; one per module, so the second case finds the database already migrated."""
    copy = tmp_path_factory.mktemp("checkout")

    def ignore(folder, names):
        skipped = {name for name in names if name in NOT_COPIED}
        if Path(folder) == ROOT / "bench":
            skipped.add("out")
        return skipped

    shutil.copytree(ROOT, copy, ignore=ignore, dirs_exist_ok=True)
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def marked(marker):
    """pid → command line of every live process carrying ``marker`` in its environment
    (a zombie has no environment left: it runs nothing)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        found[int(entry.name)] = command.strip()
    return found


def wait_for(condition, seconds, interval=0.25):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@pytest.mark.parametrize(
    ("signum", "make_args"),
    [
        # The whole `make run` of a fresh checkout: migrate, plans and demo data, then the stack.
        (signal.SIGTERM, []),
        # The demo steps done (or not: runserver and Celery start either way), to keep the time.
        (signal.SIGINT, ["-o", "demo"]),
        # Recipes run by bash, the /bin/sh of Fedora or macOS: on Ctrl-C bash waits for the
        # child and carries on when it exits normally, as honcho does (status 130). The old
        # recipe's `|| honcho …` then started the whole stack again.
        (signal.SIGINT, ["-o", "demo", "SHELL=/bin/bash"]),
    ],
    ids=["SIGTERM", "SIGINT", "SIGINT-bash"],
)
def test_one_signal_to_the_process_group_stops_everything_and_restarts_nothing(
    checkout, tmp_path, signum, make_args
):
    """Web (runserver), worker and beat are up and the port answers; one signal to make's
    process group, and within seconds make has exited, none of the processes it started
    (in whatever session) is alive, the port is free, and nothing comes back."""
    port = free_port()
    token = uuid.uuid4().hex
    marker = f"PORTAL_MAKE_RUN_TEST={token}".encode()
    env = {
        key: value
        for key, value in os.environ.items()
        # The embedded defaults (SQLite and the filesystem broker under the copy's var/) and
        # the development settings, whatever the test run itself points at.
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
        and not key.startswith("MAKE")
    }
    env.update(PORT=str(port), PORTAL_MAKE_RUN_TEST=token)
    log_path = tmp_path / "make-run.log"
    with open(log_path, "wb") as log:
        # `-o`: the virtualenv is the project's, already installed; never reinstall from here.
        make = subprocess.Popen(
            [shutil.which("make"), "run", "-o", ".venv/bin/.installed", *make_args],
            cwd=checkout,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    group = make.pid

    def log_tail():
        return log_path.read_text(errors="replace")[-3000:]

    def stack_up():
        commands = " ".join(marked(marker).values())
        return (
            answers(port)
            and "runserver" in commands
            and "worker" in commands
            and "beat" in commands
        )

    try:
        started = wait_for(lambda: make.poll() is not None or stack_up(), STARTUP_SECONDS)
        assert started and make.poll() is None, f"make run did not come up:\n{log_tail()}"

        os.killpg(group, signum)

        try:
            make.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"make still running after the stop: {marked(marker)}\n{log_tail()}")
        assert wait_for(lambda: not marked(marker), STOP_SECONDS), (
            f"still running after the stop: {marked(marker)}\n{log_tail()}"
        )
        time.sleep(SETTLE_SECONDS)
        assert not marked(marker), f"started again after the stop: {marked(marker)}"
        assert not answers(port)
        with socket.socket() as sock:
            # Free: nothing listens on it any more (a closed connection's TIME_WAIT may remain).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()
    finally:
        for pid in marked(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if make.poll() is None:
            make.kill()
            make.wait()
