"""IMAP polling against a real Dovecot: each message acted on once, flagged only once stored.

Mail is put in with IMAP APPEND, as the mail server's delivery would; ``fetch_mail`` is the
beat task itself, run in the test's process.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from inbound.imap import _lock_key, parse_imap_url
from inbound.models import ImapMailbox, InboundMessage
from inbound.services import inbound_store
from inbound.tasks import fetch_mail
from tests.concurrency import run_together
from tickets.models import Ticket

from .conftest import IMAP_PASSWORD, make_mail, seen_flags

pytestmark = pytest.mark.django_db(transaction=True)

ANN = "ann@client.example"


def append(box, raw, folder="INBOX"):
    box.append(raw, folder)


@pytest.mark.imap
def test_a_mail_fetched_opens_a_ticket_and_is_flagged_seen(
    imap_url, imap_box, client_user, support_service
):
    """New mail in the folder: stored with via=imap, acted on, then flagged \\Seen; the
    folder's UIDVALIDITY and last UID are recorded."""
    append(imap_box, make_mail(sender=ANN, subject="Export broken"))
    assert seen_flags(imap_box) == {1: False}

    result = fetch_mail()

    assert result["fetched"] == 1 and result["stored"] == 1
    message = InboundMessage.objects.get()
    assert message.via == InboundMessage.Via.IMAP
    assert message.outcome == InboundMessage.Outcome.TICKET_OPENED
    assert message.ticket.subject == "Export broken"
    assert seen_flags(imap_box) == {1: True}
    mailbox = ImapMailbox.objects.get()
    assert mailbox.last_uid == 1 and mailbox.uidvalidity
    assert IMAP_PASSWORD not in mailbox.key


@pytest.mark.imap
def test_fetching_twice_and_the_same_mail_twice_has_one_effect(
    imap_url, imap_box, client_user, support_service
):
    """A second poll reads nothing again; the same message delivered twice into the folder
    (two UIDs, one Message-ID) opens one ticket."""
    raw = make_mail(sender=ANN, message_id="<twice@client.example>")
    append(imap_box, raw)
    fetch_mail()
    assert fetch_mail()["fetched"] == 0
    append(imap_box, raw)
    second = fetch_mail()
    assert second["fetched"] == 1 and second["stored"] == 0
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1
    assert seen_flags(imap_box) == {1: True, 2: True}


@pytest.mark.imap
def test_a_mail_stored_but_not_acted_on_is_acted_on_at_the_next_poll(
    imap_url, imap_box, client_user, support_service
):
    """The poller died after storing the message, before acting (and before flagging it or
    moving past its UID): the next poll acts on it, once."""
    raw = make_mail(sender=ANN)
    append(imap_box, raw)
    stored, _ = inbound_store(raw=raw, via=InboundMessage.Via.IMAP)
    assert stored.outcome == InboundMessage.Outcome.PENDING

    fetch_mail()

    stored.refresh_from_db()
    assert stored.outcome == InboundMessage.Outcome.TICKET_OPENED
    assert Ticket.objects.count() == 1
    assert seen_flags(imap_box) == {1: True}


@pytest.mark.imap
def test_batches_read_every_message_in_order(
    imap_url, imap_box, client_user, support_service, settings
):
    """Fetched a few at a time (never the whole folder at once), nothing skipped."""
    settings.IMAP_BATCH_SIZE = 2
    for n in range(5):
        append(imap_box, make_mail(sender=ANN, subject=f"Question {n}"))
    assert fetch_mail()["fetched"] == 5
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        f"Question {n}" for n in range(5)
    ]
    assert ImapMailbox.objects.get().last_uid == 5
    assert all(seen_flags(imap_box).values())


@pytest.mark.imap
def test_a_uidvalidity_change_reads_the_folder_again_without_duplicates(
    dovecot, imap_user, imap_box, client_user, support_service, settings
):
    """The folder is recreated (new UIDVALIDITY, UIDs from 1 again) with an old message and a
    new one: the folder is read again from the start, the old message has no second effect."""
    settings.IMAP_URL = (
        f"imap+plain://{imap_user}:{IMAP_PASSWORD}@127.0.0.1:{dovecot['port']}/Support"
    )
    imap_box.folder.create("Support")
    old = make_mail(sender=ANN, subject="Old", message_id="<old@client.example>")
    append(imap_box, old, "Support")
    append(imap_box, make_mail(sender=ANN, subject="Old too"), "Support")
    fetch_mail()
    before = ImapMailbox.objects.get().uidvalidity

    imap_box.folder.set("INBOX")
    imap_box.folder.delete("Support")
    imap_box.folder.create("Support")
    append(imap_box, old, "Support")
    append(imap_box, make_mail(sender=ANN, subject="New"), "Support")
    result = fetch_mail()

    mailbox = ImapMailbox.objects.get()
    assert mailbox.uidvalidity != before
    assert result["rescanned"] and result["fetched"] == 2 and result["stored"] == 1
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["New", "Old", "Old too"]
    assert mailbox.last_uid == 2


@pytest.mark.imap
def test_a_message_over_the_size_limit_is_fetched_as_headers_and_refused(
    imap_url, imap_box, client_user, support_service, settings
):
    """Over INBOUND_EMAIL_MAX_BYTES only the header block is fetched; the message is refused
    with its size as the reason, and flagged like any other."""
    settings.INBOUND_EMAIL_MAX_BYTES = 2000
    append(imap_box, make_mail(sender=ANN, body="x" * 10_000 + "\n"))
    fetch_mail()
    message = InboundMessage.objects.get()
    assert message.outcome == InboundMessage.Outcome.REFUSED
    assert not message.raw_complete and message.size > 10_000
    assert b"xxxxxxxx" not in bytes(message.raw)
    assert Ticket.objects.count() == 0
    assert seen_flags(imap_box) == {1: True}


@pytest.mark.imap
@pytest.mark.postgres
def test_a_second_poller_returns_at_once_while_the_first_holds_the_folder(
    imap_url, imap_box, client_user, support_service
):
    """While one worker polls (holds the folder's advisory lock), another fetches nothing and
    returns at once, instead of reading the same messages."""
    append(imap_box, make_mail(sender=ANN))
    mailbox = ImapMailbox.objects.create(key=parse_imap_url(imap_url).key)
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(mailbox.pk)])
        assert fetch_mail() == {"busy": True, "fetched": 0, "stored": 0, "rescanned": False}
        assert InboundMessage.objects.count() == 0
    finally:
        other.close()
    assert fetch_mail()["fetched"] == 1


@pytest.mark.imap
@pytest.mark.postgres
def test_two_pollers_at_once_have_one_effect(imap_url, imap_box, client_user, support_service):
    """Two workers polling the same folder at the same moment: every message once."""
    for n in range(6):
        append(imap_box, make_mail(sender=ANN, subject=f"Race {n}"))
    results = run_together(fetch_mail, fetch_mail)
    assert sum(r["fetched"] for r in results) >= 6
    assert Ticket.objects.count() == 6
    assert InboundMessage.objects.count() == 6
    assert connection.vendor == "postgresql"


def test_imap_url_schemes():
    """imaps:// is TLS on 993, imap:// STARTTLS on 143; the password is percent-decoded and
    never part of the folder's key; imap+plain:// only on loopback."""
    target = parse_imap_url("imaps://support%40acme:p%40ss%2Fword@imap.example.com/Support")
    assert (target.scheme, target.port, target.folder) == ("imaps", 993, "Support")
    assert (target.user, target.password) == ("support@acme", "p@ss/word")
    assert "p@ss" not in target.key
    assert parse_imap_url("imap://u:p@imap.example.com").port == 143
    assert parse_imap_url("imap://u:p@imap.example.com").folder == "INBOX"
    assert parse_imap_url("imap+plain://u:p@127.0.0.1:1143/INBOX").port == 1143
    with pytest.raises(ImproperlyConfigured, match="loopback"):
        parse_imap_url("imap+plain://u:p@imap.example.com/INBOX")
    with pytest.raises(ImproperlyConfigured, match="scheme"):
        parse_imap_url("pop3://u:p@mail.example.com")


def test_fetch_mail_without_imap_url_does_nothing(settings, db):
    settings.IMAP_URL = ""
    assert fetch_mail() is None
    assert not ImapMailbox.objects.exists()
