"""The SLA sweep's emails, filled in per ticket from a rendering shared by many tickets, are
byte for byte what rendering each ticket's templates on its own gives, headers included."""

import hashlib
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils.timesince import timeuntil

from notifications.rendering import render_email
from notifications.services import notification_key
from tests import factories
from tickets import emails
from tickets.escalation import _COLUMNS, _Plans
from tickets.mail_thread import (
    message_id,
    reply_to_address,
    thread_root_id,
    ticket_pk_from_message_id,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

SUBJECTS = [
    "R&D <b>bold</b> \"quoted\" 'single' 100% done",
    "%(subject)s %s %% @@sla.number@@ {url}",
    "Line one\nline two\t\ttabbed   and   spaced " + "long " * 28,
    "Ünïcödé — naïve café ✓",
    "",
]


@pytest.fixture
def tickets(tier_groups):
    """Tickets of two services (one with HTML and % in its name), different priorities (one
    with markup in its name), tiers, customers and assignees."""
    plain = factories.ServiceFactory(name="Billing")
    odd = factories.ServiceFactory(name='R&D <Labs> 50% "beta"')
    priorities = [
        factories.PriorityFactory(service=plain, code="P1", name="High"),
        factories.PriorityFactory(service=plain, code="P2", name="Medium & <low>"),
        factories.PriorityFactory(service=odd, code="P0", name="Critical 100%"),
    ]
    assignee = factories.StaffFactory(tier=1)
    result = []
    for n, subject in enumerate(SUBJECTS * 2):
        priority = priorities[n % len(priorities)]
        result.append(
            factories.TicketFactory(
                service=priority.service,
                priority=priority,
                subject=subject,
                description=f"Steps & <details> {n}\n%(description)s\n" * (n % 3),
                tier=1 + n % 3,
                assignee=assignee if n % 2 else None,
            )
        )
    return result


def _reference(template, ticket, key, recipients, context):
    """Each ticket's templates rendered by Django with its own values (no placeholders)."""
    rendered = render_email(
        template, {"ticket": ticket, "url": emails.admin_url(ticket), **context}
    )
    rows = []
    for address in sorted(set(recipients)):
        row_key = notification_key(key, address)
        rows.append(
            (
                row_key,
                address,
                rendered.subject,
                rendered.text,
                rendered.html,
                _headers(ticket.pk, row_key),
            )
        )
    return rows


def _headers(ticket_pk, row_key):
    """The threading headers as each is made on its own (``mail_thread``'s signing)."""
    part = hashlib.sha256(row_key.encode()).hexdigest()[:16]
    headers = {
        "Message-ID": message_id(ticket_pk, part),
        "In-Reply-To": thread_root_id(ticket_pk),
        "References": thread_root_id(ticket_pk),
        "Reply-To": reply_to_address(ticket_pk),
    }
    # What inbound mail matches replies by still names the ticket.
    assert ticket_pk_from_message_id(headers["Message-ID"]) == ticket_pk
    return headers


def _rows(outbox):
    return [(e.key, e.to, e.subject, e.body_text, e.body_html, e.headers) for e in outbox]


def _cases(ticket, n, recipients=("b@example.com", "a@example.com", "a@example.com", "")):
    """(fast call, template, reference context) of each SLA email for ``ticket``."""
    key = f"sla-step:{1000 + n}"
    due = NOW - timedelta(minutes=7 * n)
    reason = f"first response deadline {due:%Y-%m-%d %H:%M} UTC lapsed & <50%>"
    actor = factories.StaffFactory.build(username=f"s&m<{n}>")
    for escalated, by in ((True, None), (True, actor), (False, None)):
        yield (
            lambda ticket, stamps, escalated=escalated, by=by: emails.sla_escalated(
                ticket,
                key=key,
                from_tier=ticket.tier - 1,
                reason=reason,
                actor=by,
                escalated=escalated,
                recipients=recipients,
                stamps=stamps,
            ),
            "sla/escalated",
            {
                "from_tier": ticket.tier - 1,
                "to_tier": ticket.tier,
                "reason": reason,
                "actor": by.get_username() if by else "",
                "escalated": escalated,
                "by_someone": by is not None,
            },
        )
    yield (
        lambda ticket, stamps: emails.sla_at_risk(
            ticket,
            key=key,
            timer="response",
            due_at=due + timedelta(hours=1),
            now=NOW,
            recipients=recipients,
            stamps=stamps,
        ),
        "sla/at_risk",
        {
            "timer_label": "first response",
            "due": f"{due + timedelta(hours=1):%a %d %b %Y %H:%M} UTC",
            "left": timeuntil(due + timedelta(hours=1), NOW),
        },
    )
    yield (
        lambda ticket, stamps: emails.sla_management(
            ticket,
            key=key,
            role="Tech Lead & <Co>",
            due_at=due,
            recipients=recipients,
            stamps=stamps,
        ),
        "sla/management",
        {"role": "Tech Lead & <Co>", "due": f"{due:%a %d %b %Y %H:%M} UTC"},
    )


def test_sla_emails_filled_in_per_ticket_equal_each_ticket_rendered_alone(tickets):
    """Through one batch's shared renderings (``stamps``), from the model and from the columns
    the sweep reads, every email equals its own full rendering: subject, text, HTML (values
    escaped there, and only there), and the threading headers."""
    swept = {
        t.pk: t
        for t in _Plans(NOW).tickets(
            list(
                Ticket.objects.filter(pk__in=[t.pk for t in tickets])
                .order_by("pk")
                .values_list(*_COLUMNS)
            )
        )
    }
    model_stamps, swept_stamps = {}, {}
    compared = 0
    for n, ticket in enumerate(tickets):
        for fast, template, context in _cases(ticket, n):
            expected = _reference(
                template,
                ticket,
                f"sla-step:{1000 + n}",
                ["a@example.com", "b@example.com"],
                context,
            )
            assert _rows(fast(ticket, model_stamps)) == expected, (template, ticket.subject)
            assert _rows(fast(swept[ticket.pk], swept_stamps)) == expected
            assert _rows(fast(ticket, None)) == expected
            compared += len(expected)
    assert compared == len(tickets) * 5 * 2
    # Shared: one rendering per template and flags, one filling per distinct shared values.
    assert len([k for k in model_stamps if len(k) == 2]) == 5


def test_html_special_characters_are_escaped_in_the_html_part_only(tickets):
    ticket = next(t for t in tickets if t.subject.startswith("R&D"))
    (email, _other) = emails.sla_management(
        ticket,
        key="sla-step:1",
        role="Tech Lead",
        due_at=NOW,
        recipients=["a@example.com", "b@example.com"],
    )
    assert "R&D <b>bold</b> \"quoted\" 'single' 100% done" in email.subject
    assert "Subject: R&D <b>bold</b> \"quoted\" 'single' 100% done" in email.body_text
    assert "R&amp;D &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot; &#x27;single&#x27; 100% done" in (
        email.body_html
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    "from_email", ["support@portal.example", 'Süppört "Desk" <help@portal.example>']
)
def test_sla_emails_built_by_postgresql_equal_each_ticket_rendered_alone(
    tickets, settings, from_email
):
    """The sweep's PostgreSQL path (``SlaOutboxRows``: the bodies filled in by ``format()``,
    HTML-escaped by ``replace()``, the headers signed by ``sha256()``) records, byte for byte,
    the rows each ticket's own rendering gives: subject, text, HTML, headers (Message-ID
    included), keys (one too long for the column, hashed), with a plain and a quoted, encoded
    sender name in the Reply-To."""
    from django.db import connection

    from notifications.models import Notification

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    settings.DEFAULT_FROM_EMAIL = from_email
    long_address = "x" * 240 + "@example.com"
    recipients = ["b@example.com", "a@example.com", "", "Zoë <zoe@example.com>", long_address]
    compared = 0
    for case in range(5):
        rows = emails.SlaOutboxRows()
        expected = []
        for n, ticket in enumerate(tickets):
            fast, template, context = list(_cases(ticket, n, recipients))[case]
            key = f"sla-step:{1000 + n}"
            expected += _reference(template, ticket, key, [a for a in recipients if a], context)
            with mock.patch.object(emails, "_outbox", _with_rows(rows)):
                assert fast(ticket, None) == []
        assert rows.insert() == len(expected)
        recorded = [
            (n.key, n.to, n.subject, n.body_text, n.body_html, n.headers)
            for n in Notification.objects.order_by("pk")
        ]
        assert recorded == expected, template
        assert all(n.status == "pending" for n in Notification.objects.all())
        compared += len(recorded)
        Notification.objects.all().delete()
    assert compared == len(tickets) * 5 * 4


def _with_rows(rows):
    real = emails._outbox

    def outbox(*args):
        return real(*args[:-1], rows)

    return outbox
