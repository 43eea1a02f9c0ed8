"""A Dovecot of our own on a spare loopback port, with its own config and folders.

Used by tests/inbound (a session fixture) and bench/inbound.py. Needs Debian's
``dovecot-imapd`` and root (Dovecot drops to its ``dovecot``/``dovenull`` users); the system
service is not used.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

IMAP_PASSWORD = "imap-test-password"


def _spare_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dovecot_config(binary, root, port):
    major_minor = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    version = tuple(int(part) for part in major_minor.split(".")[:2])
    # Dovecot 2.4 renamed the cleartext switch (and more); 2.3 is Debian 12's.
    cleartext = "auth_allow_cleartext = yes" if version >= (2, 4) else "disable_plaintext_auth = no"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
{cleartext}
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 100
mail_location = maildir:{root}/mail/%u/Maildir
passdb {{
  driver = static
  args = password={IMAP_PASSWORD}
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextmanager
def running_dovecot():
    """Start Dovecot; yields {"host", "port", "root"}; stops it and removes its folder."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    root = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
    # Dovecot's own users (dovecot, dovenull) must reach the mail and run folders below it.
    os.chmod(root, 0o755)  # noqa: S103
    (root / "mail").mkdir()
    shutil.chown(root / "mail", user="dovecot", group="dovecot")
    port = _spare_port()
    config = root / "dovecot.conf"
    config.write_text(_dovecot_config(binary, root, port))
    log = root / "dovecot.log"
    # Dovecot daemonises: the foreground process exits once the master runs in the background
    # (which inherits no pipe of ours, or waiting for this one would never end).
    with open(root / "start.err", "wb") as errors:
        subprocess.run(
            [binary, "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            check=True,
            timeout=30,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    text = log.read_text() if log.exists() else ""
                    raise RuntimeError(f"Dovecot did not start:\n{text}") from None
                time.sleep(0.1)
        yield {"host": "127.0.0.1", "port": port, "root": root}
    finally:
        subprocess.run(
            [binary, "-c", str(config), "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
