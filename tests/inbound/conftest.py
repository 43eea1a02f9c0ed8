"""A service with a support address, its customer, and a builder of raw messages."""

import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests import factories

from .dovecot import IMAP_PASSWORD, running_dovecot

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


@pytest.fixture(scope="session")
def dovecot():
    """A Dovecot of the session's own (``tests/inbound/dovecot.py``), stopped at the end.

    Tests using it are marked ``imap``: skipped without Dovecot, a failure in CI.
    """
    with running_dovecot() as server:
        yield server


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
