"""The SMTP fast path for bulk rows: a shared body's MIME message built once, copied per row
with a few ``bytes.replace`` and handed to the SMTP connection as is (``delivery.py`` uses it
where it is exact, the ordinary ``EmailMultiAlternatives`` path everywhere else)."""

import functools
import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import make_msgid, sanitize_address
from django.core.mail.utils import DNS_NAME

_TO_PLACEHOLDER = "recipient@outbox-placeholder.invalid"


class CompiledMessage:
    """A shared body's MIME message serialised once, for the SMTP backend's bulk fast path.

    Building and serialising a MIME message costs ~1–2 ms of CPU (header encoding, folding,
    boundaries), which at 100,000 recipients is minutes. Rows that share a body and headers
    differ only in their recipient, Message-ID and placeholders, so the bytes are built once
    with the placeholders in and each row's copy is a few ``bytes.replace``. It is used only
    where it is exact: the SMTP backend, ASCII values without line breaks, and a template in
    which every placeholder survived serialisation verbatim (no quoted-printable folding);
    anything else takes the ordinary path.
    """

    def __init__(self, raw, headers, placeholders, message_id):
        self.raw, self.headers, self.placeholders, self.message_id = (
            raw,
            headers,
            placeholders,
            message_id,
        )

    @classmethod
    def for_row(cls, notification, connection, cache):
        """The compiled message for ``notification`` sent over ``connection`` (an open SMTP
        backend), or None where the ordinary path must take it."""
        if not isinstance(connection, SMTPBackend) or connection.connection is None:
            return None
        return cls.for_smtp_row(notification, cache)

    @classmethod
    def for_smtp_row(cls, notification, cache):
        """``for_row`` for a row known to go to an SMTP backend (the sweep's pool)."""
        if cache is None or notification.body_id is None:
            return None
        values = [notification.to, *notification.substitutions.values()]
        if not all(v.isascii() and "\n" not in v and "\r" not in v for v in values):
            return None
        key = notification.body_id
        if key not in cache:
            cache[key] = cls._build(notification)
        compiled = cache[key]
        if compiled is None or compiled.headers != (notification.headers or {}):
            return None
        if set(notification.substitutions) != compiled.placeholders:
            return None
        return compiled

    @classmethod
    def _build(cls, notification):
        body = notification.body
        message = EmailMultiAlternatives(
            subject=body.subject,
            body=body.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[_TO_PLACEHOLDER],
            headers=notification.headers or None,
        )
        if body.body_html:
            message.attach_alternative(body.body_html, "text/html")
        mime = message.message()
        raw = mime.as_bytes(linesep="\r\n")
        placeholders = set(notification.substitutions)
        expected = {
            p: body.body_text.count(p)
            + body.body_html.count(p)
            + sum(str(v).count(p) for v in (notification.headers or {}).values())
            for p in placeholders
        }
        if any(raw.count(p.encode()) != n for p, n in expected.items()):
            return None  # a placeholder was encoded or folded: not safe to substitute
        if raw.count(_TO_PLACEHOLDER.encode()) != 1:
            return None
        return cls(raw, dict(notification.headers or {}), placeholders, mime["Message-ID"])

    def send(self, notification, connection):
        raw = self.raw.replace(_TO_PLACEHOLDER.encode(), notification.to.encode())
        raw = raw.replace(self.message_id.encode(), make_msgid(domain=DNS_NAME).encode(), 1)
        for placeholder, value in notification.substitutions.items():
            raw = raw.replace(placeholder.encode(), value.encode())
        to = notification.to
        if not _PLAIN_ADDRESS.fullmatch(to):  # the header parser costs ~0.2 ms an address
            to = sanitize_address(to, settings.DEFAULT_CHARSET)
        connection.connection.sendmail(_from_address(settings.DEFAULT_FROM_EMAIL), [to], raw)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")


@functools.lru_cache(maxsize=8)
def _from_address(from_email):
    return sanitize_address(from_email, settings.DEFAULT_CHARSET)
