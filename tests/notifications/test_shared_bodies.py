"""Bulk rows share one rendered body; each recipient's copy differs only in its placeholders.

Over SMTP the shared body's MIME message is serialised once and copied per recipient; the
bytes a mail server receives must be what the ordinary path would have sent.
"""

import email
from email.policy import default as default_policy

import pytest

from notifications import smtp_fastpath
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from notifications.services import (
    OutboxEmail,
    notification_body_create,
    notifications_create_many,
)
from tests.notifications.backends import SMTPSink

pytestmark = pytest.mark.django_db

PLACEHOLDER = "@@link@@"


@pytest.fixture
def smtp_sink(settings):
    sink = SMTPSink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.close()


def record(count, *, link=lambda i: f"https://portal.example/u/{i}/", to=None):
    body = notification_body_create(
        subject="Planned maintenance — Sunday 02:00 (UTC)",
        body_text=f"Maintenance ahead – details.\nUnsubscribe: {PLACEHOLDER}\n",
        body_html=f'<p>Maintenance ahead – details.</p><a href="{PLACEHOLDER}">Unsubscribe</a>',
    )
    notifications_create_many(
        emails=[
            OutboxEmail(
                key=f"bulk:{i}",
                to=to(i) if to else f"person{i}@example.com",
                subject=body.subject,
                headers={"List-Unsubscribe": f"<{PLACEHOLDER}>"},
                body=body,
                substitutions={PLACEHOLDER: link(i)},
            )
            for i in range(count)
        ]
    )


def parsed(raw):
    return email.message_from_bytes(raw, policy=default_policy)


def test_each_recipient_gets_their_own_link_over_smtp(smtp_sink, monkeypatch):
    """Five rows of one shared body: five messages, each to its recipient, with its own link in
    text, HTML and List-Unsubscribe, a unique Message-ID, and the subject decoded intact —
    through the serialise-once copy."""
    copies = []
    compiled = smtp_fastpath.CompiledMessage
    real_send = compiled.send
    monkeypatch.setattr(compiled, "send", lambda self, *a: copies.append(1) or real_send(self, *a))
    record(5)
    assert notifications_send_due() == 5
    assert len(copies) == 5
    assert len(smtp_sink.received) == 5
    ids = set()
    for envelope_to, raw in smtp_sink.received:
        message = parsed(raw)
        i = int(message["To"].removeprefix("person").split("@")[0])
        assert envelope_to == f"<person{i}@example.com>"
        assert message["Subject"] == "Planned maintenance — Sunday 02:00 (UTC)"
        link = f"https://portal.example/u/{i}/"
        assert message["List-Unsubscribe"] == f"<{link}>"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert f"Unsubscribe: {link}" in text and f'href="{link}"' in html
        assert PLACEHOLDER not in raw.decode()
        ids.add(message["Message-ID"])
    assert len(ids) == 5
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_values_the_copy_cannot_hold_take_the_ordinary_path(smtp_sink):
    """A non-ASCII link or address is not pasted into bytes: the message is built as usual."""
    record(2, link=lambda i: f"https://portal.example/ü/{i}/", to=lambda i: f"p{i}@exämple.com")
    assert notifications_send_due() == 2
    assert len(smtp_sink.received) == 2
    for _, raw in smtp_sink.received:
        message = parsed(raw)
        assert "https://portal.example/ü/" in message.get_body(("plain",)).get_content()


def test_other_backends_get_the_substituted_content(mailoutbox):
    """With any other backend (here locmem) each message carries its recipient's link."""
    record(2)
    assert notifications_send_due() == 2
    assert sorted(m.extra_headers["List-Unsubscribe"] for m in mailoutbox) == [
        "<https://portal.example/u/0/>",
        "<https://portal.example/u/1/>",
    ]
    assert "https://portal.example/u/0/" in mailoutbox[0].body + mailoutbox[1].body
