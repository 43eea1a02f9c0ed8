"""Threading headers of the emails about a ticket, and how a reply to one finds its ticket.

Every email about a ticket carries:

- ``Message-ID: <ticket-<pk>-<part>-<sig>@<domain>>``: ``part`` is a hash of the outbox key
  (stable: a resend of the same row has the same id), ``sig`` an HMAC of ``pk`` and ``part``
  under ``SECRET_KEY``, so an id a reply quotes back is known to be one we made;
- ``In-Reply-To`` and ``References``: the ticket's thread root (``part`` = ``root``), so mail
  clients show every email of a ticket as one conversation;
- ``Reply-To: <local>+<pk>-<sig>@<domain>``: the sender's address plus a signed token naming the
  ticket, so an answer comes back to the support mailbox and says which ticket it is about.

``<local>@<domain>`` is ``DEFAULT_FROM_EMAIL``'s address. The signatures are lowercase hex
rather than ``django.core.signing``'s base64: mail systems may change the case of a local part,
and base64 does not survive that. Verifying ignores the domain, so a changed
``DEFAULT_FROM_EMAIL`` does not orphan older threads.
"""

import functools
import hashlib
import hmac
import re
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.utils.crypto import constant_time_compare

SIG_LENGTH = 20  # hex digits of a signature
_TOKEN = re.compile(rf"(\d{{1,18}})-([0-9a-f]{{{SIG_LENGTH}}})")
_MESSAGE_ID = re.compile(
    rf"<?ticket-(\d{{1,18}})-([0-9a-z]{{1,32}})-([0-9a-f]{{{SIG_LENGTH}}})@[^>]*>?"
)


def _sign(value, purpose):
    # Django's salted_hmac(f"tickets.mail_thread.{purpose}", value, algorithm="sha256"): its key
    # derived once per purpose and secret, and the HMAC in one call (``hmac.digest``, OpenSSL's
    # one-shot HMAC): the SLA sweep signs four values for each of thousands of tickets.
    return _signed(_keyed(purpose, settings.SECRET_KEY), value)


def _signed(key, value):
    return hmac.digest(key, value.encode(), "sha256").hex()[:SIG_LENGTH]


@functools.lru_cache(maxsize=16)
def _keyed(purpose, secret):
    return hashlib.sha256(f"tickets.mail_thread.{purpose}{secret}".encode()).digest()


def signing_key(purpose):
    """The HMAC-SHA256 key of ``purpose`` ("message-id", "reply") under ``SECRET_KEY``: for
    the SLA sweep, which signs in PostgreSQL (``emails.SlaOutboxRows``)."""
    return _keyed(purpose, settings.SECRET_KEY)


def sender_parts():
    """(display name, local part, domain) of ``DEFAULT_FROM_EMAIL``."""
    return _sender_parts(settings.DEFAULT_FROM_EMAIL)


@functools.lru_cache(maxsize=8)
def _sender_parts(from_email):
    # Parsed once per setting value: the SLA sweep asks for every one of thousands of emails,
    # and parseaddr alone was ~15 µs of the ~65 µs each email's headers took.
    name, address = parseaddr(from_email)
    local, _, domain = address.rpartition("@")
    return name, local or "support", domain or "localhost"


def reply_token(ticket_pk):
    return f"{ticket_pk}-{_sign(str(ticket_pk), 'reply')}"


def ticket_pk_from_reply_token(token):
    """The ticket a ``Reply-To`` token names, or None when it is not one of ours."""
    match = _TOKEN.fullmatch(token.strip().lower())
    if match and constant_time_compare(_sign(match[1], "reply"), match[2]):
        return int(match[1])
    return None


def reply_to_address(ticket_pk):
    name, local, domain = sender_parts()
    address = f"{local}+{reply_token(ticket_pk)}@{domain}"
    return formataddr((name, address)) if name else address


def reply_to_parts(name, local, domain):
    """(before, after) the token in ``reply_to_address``'s value: ``formataddr`` puts the
    address in as it is, so only the display name's quoting or encoding comes around it."""
    marker = "\x00"
    address = f"{local}+{marker}@{domain}"
    before, after = (formataddr((name, address)) if name else address).split(marker)
    return before, after


def message_id(ticket_pk, part):
    _name, _local, domain = sender_parts()
    return f"<ticket-{ticket_pk}-{part}-{_sign(f'{ticket_pk}-{part}', 'message-id')}@{domain}>"


def thread_root_id(ticket_pk):
    return message_id(ticket_pk, "root")


def ticket_pk_from_message_id(value):
    """The ticket of a Message-ID we made (any of a thread), or None."""
    match = _MESSAGE_ID.fullmatch(value.strip().lower())
    if match is None:
        return None
    pk, part, sig = match[1], match[2], match[3]
    if constant_time_compare(_sign(f"{pk}-{part}", "message-id"), sig):
        return int(pk)
    return None


def thread_headers(ticket_pk, key):
    """The headers of one outbox row (``key``: its unique outbox key) about a ticket."""
    return thread_headers_many(ticket_pk, [key])[0]


def thread_headers_many(ticket_pk, keys):
    """``thread_headers`` of several outbox rows about one ticket (the same headers, each row's
    own Message-ID): the thread root and the Reply-To token are the ticket's, so they are
    signed once for all of them (the SLA sweep emails each ticket's tier members: two HMACs
    fewer per extra recipient)."""
    name, local, domain = sender_parts()
    pk = str(ticket_pk)
    signed = _keyed("message-id", settings.SECRET_KEY)
    root = f"<ticket-{pk}-root-{_signed(signed, f'{pk}-root')}@{domain}>"
    address = f"{local}+{pk}-{_sign(pk, 'reply')}@{domain}"
    reply_to = formataddr((name, address)) if name else address
    headers = []
    sha256 = hashlib.sha256
    for key in keys:
        part = sha256(key.encode()).hexdigest()[:16]
        signature = _signed(signed, f"{pk}-{part}")
        headers.append(
            {
                "Message-ID": f"<ticket-{pk}-{part}-{signature}@{domain}>",
                "In-Reply-To": root,
                "References": root,
                "Reply-To": reply_to,
            }
        )
    return headers
