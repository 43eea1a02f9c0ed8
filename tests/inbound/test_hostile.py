"""Whatever arrives is stored with a reason, and never raises out of the receiving path."""

import pytest

from inbound.models import InboundMessage
from inbound.parsing import MAX_PARTS, trim_reply
from inbound.services import inbound_receive
from tickets.models import Attachment, Ticket

from .conftest import SUPPORT, make_mail

pytestmark = pytest.mark.django_db

Outcome = InboundMessage.Outcome
ANN = b"From: Ann <ann@client.example>\nTo: " + SUPPORT.encode() + b"\n"


def receive(raw):
    return inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message


def parts_bomb(count):
    parts = b"".join(b"--B\nContent-Type: text/plain\n\npart %d\n" % n for n in range(count))
    return (
        ANN + b"Subject: many parts\nMessage-ID: <bomb@client.example>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n' + parts + b"--B--\n"
    )


@pytest.mark.parametrize(
    "raw, reason",
    [
        (parts_bomb(2000), f"more than {MAX_PARTS} MIME parts"),
        (b"\x00\xff\xfe garbage without any header\n", "no sender"),
        (b"From: \nTo: help@acme-support.example\nSubject: x\n\nbody\n", "no sender"),
    ],
    ids=["2000-parts", "garbage", "empty-from"],
)
def test_a_hostile_message_is_refused_with_its_reason_and_no_ticket(client_user, raw, reason):
    message = receive(raw)
    assert message.outcome == Outcome.REFUSED
    assert reason in message.reason.lower() or reason in message.reason
    assert bytes(message.raw) == raw  # kept for staff to look at
    assert not Ticket.objects.exists()


def test_an_oversized_message_is_refused_and_only_its_headers_kept(settings, client_user):
    settings.INBOUND_EMAIL_MAX_BYTES = 10_000
    raw = make_mail(
        sender="ann@client.example", attachments=[("big.pdf", b"%" * 50_000, "application/pdf")]
    )
    message = receive(raw)
    assert message.outcome == Outcome.REFUSED
    assert "limit" in message.reason
    assert not message.raw_complete and len(bytes(message.raw)) < 2_000
    assert message.sender == "ann@client.example"
    assert not Ticket.objects.exists()


def test_malformed_mime_is_read_as_far_as_it_goes(client_user, support_service):
    """A broken multipart (no closing boundary, a part without headers) from a customer still
    opens a ticket with the readable text."""
    raw = (
        ANN + b"Subject: broken\nMessage-ID: <broken@client.example>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain; charset=utf-8\n\nThe text survives.\n--B\n\n"
    )
    message = receive(raw)
    assert message.outcome == Outcome.TICKET_OPENED
    assert "The text survives." in message.ticket.description


def test_unknown_charsets_and_8bit_headers_are_decoded_with_replacements(
    client_user, support_service
):
    raw = (
        b"From: =?x-unknown-charset?B?QW5u?= <ann@client.example>\nTo: "
        + SUPPORT.encode()
        + b"\nSubject: Caf\xc3\xa9 \xff broken =?utf-8?Q?=E2=82=AC?=\n"
        b"Message-ID: <charset@client.example>\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\n"
        b"Content-Transfer-Encoding: 8bit\n\nPrix: 5 \xe2\x82\xac \xff\n"
    )
    message = receive(raw)
    assert message.outcome == Outcome.TICKET_OPENED
    ticket = message.ticket
    assert ticket.subject.startswith("Caf")
    assert "€" in ticket.subject
    assert "Prix: 5 €" in ticket.description


@pytest.mark.parametrize(
    "attachment, why",
    [
        (("empty.pdf", b"", "application/pdf"), "empty"),
        (("huge.pdf", b"%" * 3000, "application/pdf"), "limit"),
        (("run.exe", b"MZ", "application/octet-stream"), "not accepted"),
    ],
    ids=["0-byte", "giant", "refused-type"],
)
def test_a_refused_attachment_is_left_out_and_said_so(
    settings, client_user, support_service, attachment, why
):
    """The upload rules apply to attachments; a refused file is left out of the ticket (the
    customer's text is not lost for it) and the reason says which file and why."""
    settings.ATTACHMENT_MAX_BYTES = 2000
    good = ("notes.txt", b"fine\n", "text/plain")
    message = receive(make_mail(sender="ann@client.example", attachments=[good, attachment]))
    assert message.outcome == Outcome.TICKET_OPENED
    assert attachment[0] in message.reason and why in message.reason
    assert attachment[0] in message.ticket.description
    assert list(Attachment.objects.values_list("name", flat=True)) == ["notes.txt"]


def test_an_html_only_body_becomes_text(client_user, support_service):
    """Only text is kept from HTML: scripts, styles and the quoted history go."""
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>The <b>export</b> fails.</p><p>Line two<br>line three</p>"
        "<blockquote>Old quoted text</blockquote></body></html>"
    )
    message = receive(make_mail(sender="ann@client.example", body=None, html=html))
    text = message.ticket.description
    assert "The export fails." in text
    assert "Line two\nline three" in text
    assert "alert" not in text and "color" not in text and "<" not in text
    assert "Old quoted text" not in text


def test_trimming_keeps_long_lines_whole():
    """The trimmer reads lines cut short (its regexes are slow on long ones); what it keeps is
    cut from the full text, so long lines come out whole."""
    long_line = "word " * 400
    text = f"{long_line}\n\nOn Mon, 30 Nov 2026 at 10:00, Bob <bob@x.example> wrote:\n> old\n"
    assert trim_reply(text) == long_line.strip()
    assert trim_reply("Thanks!\n\n-- \nAnn Smith\nACME Corp\n") == "Thanks!"


def test_nul_bytes_never_reach_a_text_column(client_user, support_service):
    """NUL (raw or encoded) in headers and body: PostgreSQL text cannot hold it, so it is
    dropped from what is stored as text; the raw message keeps it. (On PostgreSQL a NUL
    reaching a column would fail the store step itself.)"""
    raw = (
        ANN + b"Subject: Null\x00 here =?utf-8?B?AA==?= and\x01 there\n"
        b"Message-ID: <nul\x00@client.example>\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\n\nText with a NUL\x00 inside.\n"
    )
    message = receive(raw)
    assert message.outcome == Outcome.TICKET_OPENED
    ticket = message.ticket
    assert "\x00" not in message.subject + ticket.subject + ticket.description
    assert "\x01" not in ticket.subject
    assert ticket.subject == "Null here and there"
    assert "Text with a NUL inside." in ticket.description
    assert b"\x00" in bytes(message.raw)


def test_a_text_longer_than_a_ticket_may_be_is_cut_and_says_so(
    settings, client_user, support_service
):
    """Over TICKET_TEXT_MAX_BYTES the ticket still opens: the text cut to the limit, with a note
    (the whole message stays in the stored raw email)."""
    settings.TICKET_TEXT_MAX_BYTES = 1000
    message = receive(make_mail(sender="ann@client.example", body="long line\n" * 500))
    assert message.outcome == Outcome.TICKET_OPENED
    description = message.ticket.description
    assert len(description.encode()) <= 1000
    assert description.startswith("long line\nlong line")
    assert "cut" in description
