"""Read an RFC 5322 message into what the portal acts on, whatever state it arrives in.

The stdlib ``email`` package does the MIME work, with the ``compat32`` policy: header values
stay plain strings (``policy.default`` parses every header it is asked for into an object, and
the parser itself asks for Content-Type on every part: a fifth of the inbound act's Python at
scale, for structure this module never uses). Everything it hands back is read defensively:
header values are taken raw and decoded here (8-bit bytes, unknown charsets and malformed
encoded words become replacement characters, never an exception), at most ``MAX_PARTS`` parts
are walked, and a message with more is refused whole. HTML-only bodies become plain text
through Beautiful Soup (only text is kept; nothing of the HTML is ever rendered).
Quoted history and signatures are trimmed by ``mail-parser-reply``.
"""

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from email.utils import getaddresses
from pathlib import PurePath

MAX_PARTS = 200
MAX_RECIPIENTS = 50
# Header block kept when a message is over the size limit (and the most read of one at all).
MAX_HEADER_BYTES = 64 * 1024
# Text handed to the HTML converter and to the reply trimmer at most.
MAX_HTML_CHARS = 2 * 1024 * 1024
# The reply trimmer's regular expressions cost time quadratic in a line's length; it reads
# lines cut to this length (the cut is mapped back onto the full text, see ``trim_reply``).
PROBE_LINE_CHARS = 200
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]

_SUBJECT_TICKET = re.compile(r"\[#(\d{1,18})\]")
_SUBJECT_TAG = re.compile(r"\[([A-Za-z0-9_-]{1,20})\]")
_MSGID = re.compile(r"<[^<>\s]{1,250}>")


class Unreadable(Exception):
    """The message cannot be acted on; the text says why (stored as the refusal reason)."""


@dataclass
class Envelope:
    """What the store step keeps of a message's headers (read from the header block only)."""

    message_id: str
    sender: str
    recipients: list
    subject: str


@dataclass
class Mail:
    message_id: str
    sender: str  # lowercase address, "" when none
    recipients: list  # lowercase addresses of To, Cc, Delivered-To, X-Original-To
    subject: str
    references: list  # Message-IDs of In-Reply-To, then References (newest first)
    text: str  # the new text of the message: quoted history and signature trimmed
    attachments: list = field(default_factory=list)  # (file name, bytes)
    noise: str = ""  # why this is an automatic message not to act on ("" for a person's mail)
    copied: list = field(default_factory=list)  # lowercase addresses of To and Cc only


def header_block(raw):
    """The header block of a raw message (up to the first empty line), at most 64 KiB."""
    head = raw[: MAX_HEADER_BYTES + 4]
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end != -1:
            return head[: end + len(separator)]
    return head[:MAX_HEADER_BYTES]


def dedupe_key(message_id, raw):
    """The exactly-once key: the Message-ID, or a hash of the raw message when it has none."""
    if message_id and len(message_id) <= 200:
        return message_id
    if message_id:
        return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def read_envelope(raw):
    """Message-ID, sender, recipients and subject, from the header block only."""
    message = BytesHeaderParser(policy=compat32).parsebytes(header_block(raw))
    ids = _message_ids(header(message, "Message-ID"))
    return Envelope(
        message_id=ids[0] if ids else "",
        sender=sender_address(message),
        recipients=recipient_addresses(message),
        subject=header(message, "Subject")[:255],
    )


def parse(raw, *, max_text_chars):
    """The whole message as a ``Mail``; raises ``Unreadable`` with the reason.

    The text is read up to ``max_text_chars`` (plus one, so a caller can tell it was longer):
    only the top of an email is new text, and the reply trimmer's time grows with its input
    (about 1.5 s for 64 KiB of hostile lines, 12 s for 512 KiB).
    """
    try:
        message = BytesParser(policy=compat32).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; this is a bug in it meeting odd input
        raise Unreadable(f"the message could not be parsed ({type(exc).__name__})") from None
    parts = list(itertools.islice(_walk(message), MAX_PARTS + 1))
    if len(parts) > MAX_PARTS:
        raise Unreadable(f"the message has more than {MAX_PARTS} MIME parts")
    references = _message_ids(header(message, "In-Reply-To"))
    references += list(reversed(_message_ids(header(message, "References"))))
    plain, html, attachments = _contents(parts)
    if plain is not None:
        text = plain
    elif html is not None:
        text = html_to_text(html)
    else:
        text = ""
    ids = _message_ids(header(message, "Message-ID"))
    return Mail(
        message_id=ids[0] if ids else "",
        sender=sender_address(message),
        recipients=recipient_addresses(message),
        subject=header(message, "Subject"),
        references=references,
        text=trim_reply(_clean(text[: max_text_chars + 1])),
        attachments=attachments,
        noise=noise(message, parts),
        copied=_addresses(headers(message, "To") + headers(message, "Cc"))[:MAX_RECIPIENTS],
    )


def header(message, name):
    """One header's value as text: unfolded, RFC 2047 decoded, never raising ("" if absent)."""
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return _decode(value)
    return ""


def headers(message, name):
    return [_decode(value) for key, value in message.raw_items() if key.lower() == name.lower()]


def _decode(value):
    if not isinstance(value, str):
        value = str(value)
    # Raw 8-bit header bytes arrive as surrogate escapes: take them as UTF-8, else Latin-1.
    data = value.encode("utf-8", "surrogateescape")
    try:
        value = data.decode("utf-8")
    except UnicodeDecodeError:
        value = data.decode("latin-1")
    try:
        pieces = decode_header(value)
    except Exception:
        pieces = [(value, None)]
    out = []
    for piece, charset in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        try:
            out.append(piece.decode(charset or "ascii", "replace"))
        except LookupError:  # a charset Python does not know
            out.append(piece.decode("utf-8", "replace"))
    return " ".join(_clean("".join(out)).split())


# C0 control characters but tab, line feed and carriage return: PostgreSQL text cannot hold
# NUL, and none of them belongs in a subject, an address or a ticket's text.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text):
    return _CONTROLS.sub("", text)


def _addresses(values):
    try:
        pairs = getaddresses(values)
    except Exception:
        return []
    found = []
    for _name, address in pairs:
        address = address.strip().lower()
        if "@" in address and len(address) <= 320 and address not in found:
            found.append(address)
    return found


def sender_address(message):
    addresses = _addresses(headers(message, "From"))
    return addresses[0] if addresses else ""


def recipient_addresses(message):
    values = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        values += headers(message, name)
    return _addresses(values)[:MAX_RECIPIENTS]


def _message_ids(value):
    return _MSGID.findall(value or "")[:MAX_RECIPIENTS]


def ticket_number_in_subject(subject):
    match = _SUBJECT_TICKET.search(subject)
    return int(match[1]) if match else None


def subject_tags(subject):
    """``[P1]``-style tags in a subject, in order (``[#12]`` is a ticket number, not a tag)."""
    return _SUBJECT_TAG.findall(subject)


def noise(message, parts):
    """Why the message is automatic (an auto-reply, a bounce, bulk mail), or ""."""
    auto = header(message, "Auto-Submitted")
    if auto and auto.split(";")[0].strip().lower() != "no":
        return f"automatic message (Auto-Submitted: {auto[:60]})"
    precedence = header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"bulk mail (Precedence: {precedence})"
    for name in ("X-Autoreply", "X-Autorespond"):
        if any(key.lower() == name.lower() for key, _ in message.raw_items()):
            return f"automatic reply ({name})"
    if _content_type(message) == "multipart/report":
        return "delivery report (bounce)"
    sender = sender_address(message)
    if sender.split("@")[0] in ("mailer-daemon", "mailer_daemon"):
        return f"bounce from {sender}"
    if header(message, "Return-Path").strip() == "<>":
        return "bounce (empty return path)"
    return ""


def _walk(message):
    """Every part, depth first (``Message.walk`` without recursion: a deeply nested message
    must not exhaust the stack)."""
    stack = [message]
    while stack:
        part = stack.pop()
        yield part
        try:
            children = part.get_payload() if part.is_multipart() else []
        except Exception:
            children = []
        if isinstance(children, list):
            stack.extend(reversed(children))


def _content_type(part):
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _payload(part):
    try:
        data = part.get_payload(decode=True)
    except Exception:
        return b""
    return data if isinstance(data, bytes) else b""


def _text_of(part):
    data = _payload(part)
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:
        charset = "utf-8"
    try:
        return data.decode(charset, "replace")
    except (LookupError, ValueError):  # an unknown charset name
        return data.decode("utf-8", "replace")


def _filename(part):
    try:
        name = part.get_filename()
    except Exception:
        return None
    if not name:
        return None
    name = _decode(name)
    name = PurePath(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")
    return name[:200] or None


def _contents(parts):
    """(first text/plain body, first text/html body, attachments)."""
    plain = html = None
    attachments = []
    for part in parts:
        try:
            multipart = part.is_multipart()
        except Exception:
            multipart = False
        if multipart:
            continue
        content_type = _content_type(part)
        if content_type == "message/rfc822":
            continue
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = None
        name = _filename(part)
        if disposition != "attachment" and content_type == "text/plain" and plain is None:
            plain = _text_of(part)
        elif disposition != "attachment" and content_type == "text/html" and html is None:
            html = _text_of(part)
        elif name or disposition == "attachment":
            attachments.append((name or f"attachment-{len(attachments) + 1}", _payload(part)))
    return plain, html, attachments


_BLOCKS = ("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "ul", "ol")
# Quoted history in HTML mail: blockquotes, Gmail's and Outlook's reply containers.
_QUOTES = ("blockquote", "div.gmail_quote", "div#appendonsend", "div#divRplyFwdMsg")


def html_to_text(html):
    """The text of an HTML body: tags dropped, line structure kept, quoted history removed."""
    html = html[:MAX_HTML_CHARS]
    try:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(html, "html.parser")
        for element in soup(["script", "style", "head", "title", "template"]):
            element.decompose()
        for selector in _QUOTES:
            for element in soup.select(selector):
                element.decompose()
        for br in soup.find_all("br"):
            br.replace_with("\n")
        for element in soup.find_all(_BLOCKS):
            element.append("\n")
        text = soup.get_text()
    except Exception:  # e.g. nesting deep enough to exhaust the stack: fall back to a crude cut
        text = re.sub(r"<[^>]*>", " ", html)
    lines = [" ".join(line.split()) for line in text.replace("\xa0", " ").splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def trim_reply(text):
    """The new text of a reply: without the quoted history below it and its signature.

    The trimming library reads a copy with long lines cut (its regular expressions are slow on
    long lines); where its answer ends is found in that copy and the full text is cut there.
    When anything is unclear the text is kept whole: losing a customer's words is worse than
    keeping a quote.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line in ("-- ", "--"):  # RFC 3676 signature separator
            lines = lines[:index]
            break
    text = "\n".join(lines).strip()
    if not text:
        return ""
    lines = text.split("\n")
    probe = [line[:PROBE_LINE_CHARS] for line in lines]
    try:
        from mailparser_reply import EmailReplyParser

        reply = EmailReplyParser(languages=REPLY_LANGUAGES).parse_reply("\n".join(probe))
    except Exception:
        return text
    kept = [_norm(line) for line in (reply or "").split("\n")]
    kept = [line for line in kept if line]
    if not kept:
        return text
    last, times = kept[-1], kept.count(kept[-1])
    for index, line in enumerate(probe):
        if _norm(line) == last:
            times -= 1
            if times == 0:
                return "\n".join(lines[: index + 1]).strip()
    return text


def _norm(line):
    return " ".join(line.split())
