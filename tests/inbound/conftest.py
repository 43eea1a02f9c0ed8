"""A service with a support address, its customer, and a builder of raw messages."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from tests import factories

SUPPORT = "help@acme-support.example"


def make_mail(
    *,
    sender,
    to=SUPPORT,
    subject="The export fails",
    body="Hello,\n\nthe CSV export fails since this morning.\n",
    html=None,
    message_id=None,
    headers=None,
    attachments=(),
):
    """One message as an MTA hands it over (bytes, CRLF-free is fine for the parser)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


@pytest.fixture
def support_service(db):
    service = factories.ServiceFactory(contact=SUPPORT, name="ACME ERP")
    factories.PriorityFactory(service=service, code="P1", name="High", position=0)
    factories.PriorityFactory(service=service, code="P3", name="Low", position=1)
    return service


@pytest.fixture
def client_user(support_service):
    return factories.CustomerFactory(email="ann@client.example", services=[support_service])


# --- a real IMAP server: Dovecot on a spare loopback port, with its own config -----------------

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


@pytest.fixture(scope="session")
def dovecot():
    """A Dovecot of the session's own, on ``127.0.0.1:<port>``; stopped when the session ends.

    Tests using it are marked ``imap``: skipped without Dovecot, a failure in CI. Its folder is
    a temporary directory of its own (not pytest's, which other runs prune).
    """
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


@pytest.fixture
def imap_user(dovecot):
    """A user of its own per test: an empty INBOX."""
    return f"user{uuid.uuid4().hex[:12]}"


@pytest.fixture
def imap_url(dovecot, imap_user, settings):
    """``IMAP_URL`` pointed at this test's mailbox (no TLS: loopback)."""
    url = f"imap+plain://{imap_user}:{IMAP_PASSWORD}@127.0.0.1:{dovecot['port']}/INBOX"
    settings.IMAP_URL = url
    return url


@pytest.fixture
def imap_box(dovecot, imap_user):
    """A client on the test's mailbox, as the mail server's delivery would put mail in."""
    from imap_tools import MailBoxUnencrypted

    box = MailBoxUnencrypted("127.0.0.1", dovecot["port"]).login(imap_user, IMAP_PASSWORD)
    yield box
    box.logout()


def seen_flags(box):
    """{uid: whether the message is flagged \\Seen} of the box's INBOX."""
    box.folder.set("INBOX")
    return {int(m.uid): "\\Seen" in m.flags for m in box.fetch(headers_only=True, mark_seen=False)}
