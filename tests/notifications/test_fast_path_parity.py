"""The outbox's fast paths against their ordinary twins, on the same scenario.

- ``notifications_insert_many`` (PostgreSQL: one hand-listed ``INSERT … SELECT FROM unnest``
  bound as binary arrays) writes exactly the rows ``notifications_create_many`` writes.
- The sweep's ``SET LOCAL enable_sort = off`` (PostgreSQL) changes the plan, not the rows:
  groups are locked and sent in the same order.
- Over SMTP, a shared body's serialise-once copy (``smtp_fastpath.CompiledMessage``, taken by
  the sweep) hands a real mail server (aiosmtpd on loopback) the bytes the ordinary path (a
  ``EmailMultiAlternatives`` per row, taken by the per-row task) hands it: every byte, except
  the two each message must have of its own (Message-ID, MIME boundary).
"""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import delivery
from notifications import services as outbox
from notifications.delivery import notification_send, notifications_send_due
from notifications.models import Notification, NotificationBody
from notifications.services import (
    OutboxEmail,
    notification_body_create,
    notifications_create_many,
    notifications_insert_many,
)
from tests.core.fast_paths import portable, rows
from tests.smtp_servers import smtp_server_on_loopback

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
PLACEHOLDER = "@@link@@"


def emails(body):
    """Rows of every shape the outbox takes: own body, shared body with placeholders, headers,
    a subject to squash and cut at 255, non-ASCII, and a key given twice (kept once)."""
    return [
        OutboxEmail(key="own:1", to="ann@example.com", subject="Hello", body_text="Hi Ann"),
        OutboxEmail(
            key="own:2",
            to="Bj\u00f6rn <bjorn@example.com>",
            subject="  Line one\n   line two\t" + "x" * 300,
            body_text="K\u00e4se",
            body_html="<p>K\u00e4se</p>",
            headers={"In-Reply-To": "<a@portal.example>", "X-Ticket": "T-7"},
        ),
        *[
            OutboxEmail(
                key=f"shared:{i}",
                to=f"person{i}@example.com",
                subject=body.subject,
                headers={"List-Unsubscribe": f"<{PLACEHOLDER}>"},
                body=body,
                substitutions={PLACEHOLDER: f"https://portal.example/u/{i}/"},
            )
            for i in range(5)
        ],
        OutboxEmail(key="own:1", to="someone-else@example.com", subject="Dup", body_text="x"),
    ]


def outbox_rows():
    return rows(Notification)


@pytest.mark.postgres
def test_insert_many_writes_the_rows_create_many_writes(time_machine):
    time_machine.move_to(NOW, tick=False)
    body = notification_body_create(subject="Notice", body_text=f"Go to {PLACEHOLDER}")
    Notification.objects.create(key="shared:0", to="earlier@example.com", subject="Earlier")
    before = transaction.savepoint()
    with CaptureQueriesContext(connection) as fast_queries:
        notifications_insert_many(emails=emails(body))
    fast = outbox_rows()
    transaction.savepoint_rollback(before)
    with CaptureQueriesContext(connection) as portable_queries, portable(outbox):
        notifications_insert_many(emails=emails(body))
    ordinary = outbox_rows()
    assert any("unnest" in q["sql"] for q in fast_queries)
    assert not any("unnest" in q["sql"] for q in portable_queries)
    assert len(fast) == 7  # 8 given, "own:1" twice; "shared:0" was there already
    assert fast == ordinary
    # And the portable twin is notifications_create_many itself.
    transaction.savepoint_rollback(before)
    notifications_create_many(emails=emails(body))
    assert outbox_rows() == fast


@pytest.mark.postgres
def test_the_sweep_sends_in_the_same_order_with_and_without_its_planner_hint(
    mailoutbox, time_machine
):
    """``SET LOCAL enable_sort = off`` only changes how PostgreSQL reads the due rows."""
    time_machine.move_to(NOW, tick=False)
    notifications_create_many(
        emails=[
            OutboxEmail(key=f"k:{i}", to=f"p{i}@example.com", subject=f"S{i}", body_text="B")
            for i in range(25)
        ]
    )
    # Due at different times, so the order is decided by next_attempt_at, then id.
    for i, pk in enumerate(Notification.objects.order_by("pk").values_list("pk", flat=True)):
        Notification.objects.filter(pk=pk).update(next_attempt_at=NOW.replace(minute=(i * 7) % 30))
    before = transaction.savepoint()
    with CaptureQueriesContext(connection) as hinted:
        assert notifications_send_due(batch_size=10) == 25
    fast = ([m.to for m in mailoutbox], rows(Notification))
    transaction.savepoint_rollback(before)
    mailoutbox.clear()
    with CaptureQueriesContext(connection) as plain, portable(delivery):
        assert notifications_send_due(batch_size=10) == 25
    assert any("enable_sort" in q["sql"] for q in hinted)
    assert not any("enable_sort" in q["sql"] for q in plain)
    assert ([m.to for m in mailoutbox], rows(Notification)) == fast


class _Inbox:
    """aiosmtpd handler keeping every message's envelope and raw bytes."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.received.append((tuple(envelope.rcpt_tos), envelope.mail_from, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a spare loopback port, and the portal's mail pointed at it."""
    with smtp_server_on_loopback(_Inbox(), settings) as inbox:
        yield inbox


def record_shared(count):
    body = notification_body_create(
        subject="Planned maintenance \u2014 Sunday 02:00 (UTC)",
        body_text=f"Maintenance ahead \u2013 details.\nUnsubscribe: {PLACEHOLDER}\n",
        body_html=(
            f'<p>Maintenance ahead \u2013 details.</p><a href="{PLACEHOLDER}">Unsubscribe</a>'
        ),
    )
    notifications_create_many(
        emails=[
            OutboxEmail(
                key=f"bulk:{i}",
                to=f"person{i}@example.com",
                subject=body.subject,
                headers={"List-Unsubscribe": f"<{PLACEHOLDER}>"},
                body=body,
                substitutions={PLACEHOLDER: f"https://portal.example/u/{i}/"},
            )
            for i in range(count)
        ]
    )


def normalised(raw):
    """The message with its own Message-ID and MIME boundary replaced by fixed names."""
    (message_id,) = re.findall(rb"^Message-ID: (.+?)\r\n", raw, flags=re.MULTILINE)
    raw = raw.replace(message_id, b"<MESSAGE-ID>")
    for boundary in set(re.findall(rb'boundary="([^"]+)"', raw)):
        raw = raw.replace(boundary, b"BOUNDARY")
    return raw


def test_the_smtp_copy_sends_the_bytes_the_ordinary_path_sends(smtp_server, time_machine):
    time_machine.move_to(NOW, tick=False)
    copies = []
    real_send = delivery.CompiledMessage.send

    def counted(self, *args):
        copies.append(1)
        return real_send(self, *args)

    record_shared(4)
    before = transaction.savepoint()
    delivery.CompiledMessage.send = counted
    try:
        assert notifications_send_due() == 4
    finally:
        delivery.CompiledMessage.send = real_send
    fast = sorted(smtp_server.received)
    assert len(copies) == 4  # each went through the copy
    transaction.savepoint_rollback(before)
    smtp_server.received.clear()
    for pk in Notification.objects.order_by("pk").values_list("pk", flat=True):
        assert notification_send(notification_id=pk)  # one EmailMultiAlternatives each
    ordinary = sorted(smtp_server.received)
    assert len(fast) == len(ordinary) == 4
    for (fast_to, fast_from, fast_raw), (to, sender, raw) in zip(fast, ordinary, strict=True):
        assert (fast_to, fast_from) == (to, sender)
        assert normalised(fast_raw) == normalised(raw)
    assert NotificationBody.objects.count() == 1
