"""IMAP polling: new mail in ``IMAP_URL``'s folder goes through ``inbound_receive``, once.

``imap_fetch_mail`` (beat, every minute, as ``inbound.tasks.fetch_mail``):

1. takes the poll lock of the folder, or returns at once when another worker holds it: on
   PostgreSQL a session advisory lock (released when the connection ends, so a killed worker
   never leaves it held); elsewhere (SQLite, one process) no lock is needed;
2. reads the folder's UIDVALIDITY; when it differs from the one recorded, the UIDs name other
   messages now, so ``last_uid`` goes back to 0 and the folder is read again (the Message-ID
   key of ``InboundMessage`` keeps what was acted on from acting twice);
3. lists the UIDs above ``last_uid`` (numbers only) and fetches their messages a batch at a
   time (``IMAP_BATCH_SIZE`` messages and at most ``IMAP_BATCH_MAX_BYTES`` of them in memory;
   a message over ``INBOUND_EMAIL_MAX_BYTES`` is fetched as its header block only, and refused
   with its size as the reason);
4. stores the batch in one transaction and then acts on each message in its own
   (``inbound_receive_many(via="imap")``: the path every way in shares, a batch at a time);
   only then is the batch flagged ``\\Seen`` on the server and ``last_uid`` moved past it.

A worker that dies anywhere in a batch leaves ``last_uid`` before it: the next poll fetches the
batch again, a stored message is found by its key, and one left pending is acted on then.

``IMAP_URL`` schemes: ``imaps://`` (TLS from the start, port 993), ``imap://`` (STARTTLS,
required, port 143) and ``imap+plain://`` (no TLS at all: loopback hosts only, for tests and a
local relay). User and password are percent-decoded; the path is the folder (default INBOX).
Certificates are verified.
"""

import logging
import re
import ssl
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

from .models import ImapMailbox, InboundMessage
from .services import inbound_receive_many

logger = logging.getLogger(__name__)

_DEFAULT_PORTS = {"imaps": 993, "imap": 143, "imap+plain": 143}
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class ImapTarget:
    scheme: str
    host: str
    port: int
    user: str
    password: str
    folder: str

    @property
    def key(self):
        """The folder's name without the password (``ImapMailbox.key``)."""
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"[:255]


def parse_imap_url(url):
    """``IMAP_URL`` → ``ImapTarget``; raises ``ImproperlyConfigured`` saying what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ImproperlyConfigured(
            f"IMAP_URL: unknown scheme {parts.scheme!r} (imaps://, imap:// with STARTTLS, or "
            "imap+plain:// on loopback)"
        )
    if not parts.hostname or parts.username is None or parts.password is None:
        raise ImproperlyConfigured("IMAP_URL needs user, password and host: imaps://u:p@host/")
    if scheme == "imap+plain" and not _is_loopback(parts.hostname):
        raise ImproperlyConfigured(
            "IMAP_URL: imap+plain:// sends the password in clear; only a loopback host may "
            "use it (use imaps:// or imap:// with STARTTLS)"
        )
    return ImapTarget(
        scheme=scheme,
        host=parts.hostname,
        port=parts.port or _DEFAULT_PORTS[scheme],
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def connect(target):
    """A logged-in imap-tools mailbox on ``target``'s folder (the caller logs out)."""
    timeout = settings.IMAP_TIMEOUT
    if target.scheme == "imaps":
        box = MailBox(target.host, target.port, timeout=timeout, ssl_context=_tls())
    elif target.scheme == "imap":
        box = MailBoxStartTls(target.host, target.port, timeout=timeout, ssl_context=_tls())
    else:
        box = MailBoxUnencrypted(target.host, target.port, timeout=timeout)
    return box.login(target.user, target.password, initial_folder=target.folder)


def _tls():
    return ssl.create_default_context()


@dataclass
class PollResult:
    busy: bool = False  # another worker holds the folder's poll lock
    fetched: int = 0
    stored: int = 0  # new rows (the rest had been stored before)
    rescanned: bool = False  # the folder's UIDVALIDITY changed


def imap_fetch_mail(*, url=None):
    """Poll ``url`` (default ``IMAP_URL``) once; returns a ``PollResult`` (None when unset)."""
    url = settings.IMAP_URL if url is None else url
    if not url:
        return None
    target = parse_imap_url(url)
    mailbox, _ = ImapMailbox.objects.get_or_create(key=target.key)
    with poll_lock(mailbox.pk) as held:
        if not held:
            return PollResult(busy=True)
        try:
            result = _poll(target, mailbox)
        except Exception as exc:
            ImapMailbox.objects.filter(pk=mailbox.pk).update(
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                last_polled_at=timezone.now(),
            )
            raise
        ImapMailbox.objects.filter(pk=mailbox.pk).update(
            last_error="", last_polled_at=timezone.now()
        )
        return result


@contextmanager
def poll_lock(mailbox_pk):
    """Yields True when this worker may poll the folder (it holds its lock), False when
    another does. PostgreSQL: ``pg_try_advisory_lock`` on the session, never waiting."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = _lock_key(mailbox_pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _lock_key(mailbox_pk):
    # One bigint per folder, in a namespace of its own (crc32 of the purpose in the high half).
    return ((zlib.crc32(b"inbound.fetch_mail") & 0x7FFFFFFF) << 32) | (int(mailbox_pk) & 0xFFFFFFFF)


def _poll(target, mailbox):
    result = PollResult()
    box = connect(target)
    try:
        uidvalidity = int(box.folder.status(target.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        if mailbox.uidvalidity != uidvalidity:
            if mailbox.uidvalidity is not None:
                logger.warning(
                    "IMAP %s: UIDVALIDITY %s → %s; reading the folder again",
                    target.key,
                    mailbox.uidvalidity,
                    uidvalidity,
                )
                result.rescanned = True
            mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
            mailbox.save(update_fields=["uidvalidity", "last_uid"])
        # "n:*" always includes the highest UID, even below n: filter.
        uids = [
            uid
            for uid in map(int, box.uids(f"UID {mailbox.last_uid + 1}:*", charset=None))
            if uid > mailbox.last_uid
        ]
        uids.sort()
        for batch in _batches(box, uids):
            fetched = [(raw, size) for _uid, raw, size in _fetch(box, batch)]
            # Stored in one transaction, then each acted on in its own (inbound_receive_many).
            receipts = inbound_receive_many(messages=fetched, via=InboundMessage.Via.IMAP)
            del fetched
            result.fetched += len(receipts)
            result.stored += sum(not receipt.duplicate for receipt in receipts)
            # Every message of the batch is committed (acted on, or pending for the sweep):
            # only now is it marked read on the server and the folder's position moved on.
            _mark_seen(box, [uid for uid, _size in batch])
            mailbox.last_uid = batch[-1][0]
            mailbox.save(update_fields=["last_uid"])
    finally:
        try:
            box.logout()
        except Exception:
            logger.warning("IMAP %s: logout failed", target.key, exc_info=True)
    return result


def _batches(box, uids):
    """Lists of (uid, size) of at most ``IMAP_BATCH_SIZE`` messages and ``IMAP_BATCH_MAX_BYTES`` (by
    RFC822.SIZE, asked for a chunk at a time; a message larger than the limit alone)."""
    size_limit = settings.IMAP_BATCH_MAX_BYTES
    count_limit = max(1, settings.IMAP_BATCH_SIZE)
    for start in range(0, len(uids), count_limit):
        chunk = uids[start : start + count_limit]
        sizes = _sizes(box, chunk)
        batch, total = [], 0
        for uid in chunk:
            size = sizes.get(uid)
            if size is None:  # expunged meanwhile
                continue
            if batch and total + min(size, _fetch_cap()) > size_limit:
                yield batch
                batch, total = [], 0
            batch.append((uid, size))
            total += min(size, _fetch_cap())
        if batch:
            yield batch


def _fetch_cap():
    return settings.INBOUND_EMAIL_MAX_BYTES


def _sizes(box, uids):
    typ, data = box.client.uid("FETCH", _uid_set(uids), "(UID RFC822.SIZE)")
    _check(typ, data)
    sizes = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = _UID.search(line), _SIZE.search(line)
        if uid and size:
            sizes[int(uid[1])] = int(size[1])
    return sizes


def _fetch(box, batch):
    """(uid, raw, full size) of each message; over the size limit only its header block."""
    sizes = dict(batch)
    uids = [uid for uid, _size in batch]
    limit = _fetch_cap()
    small = [uid for uid in uids if sizes.get(uid, 0) <= limit]
    large = [uid for uid in uids if sizes.get(uid, 0) > limit]
    found = {}
    for group, part in ((small, "BODY.PEEK[]"), (large, "BODY.PEEK[HEADER]")):
        if not group:
            continue
        typ, data = box.client.uid("FETCH", _uid_set(group), f"(UID {part})")
        _check(typ, data)
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                uid = _UID.search(item[0])
                if uid is None:
                    continue
                found[int(uid[1])] = item[1]
        del data
    for uid in uids:
        if uid in found:  # a message expunged meanwhile is simply gone
            yield uid, found.pop(uid), sizes.get(uid)


def _mark_seen(box, uids):
    # A plain UID STORE (imap-tools' flag() also EXPUNGEs, which is not ours to do).
    typ, data = box.client.uid("STORE", _uid_set(uids), "+FLAGS.SILENT", r"(\Seen)")
    _check(typ, data)


def _uid_set(uids):
    return ",".join(str(uid) for uid in uids)


def _check(typ, data):
    if typ != "OK":
        raise RuntimeError(f"IMAP command failed: {typ} {data!r}"[:500])
