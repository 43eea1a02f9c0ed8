"""The emails a ticket's life causes, each recorded in the outbox under a unique key."""

import functools
import html as _html
import re
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.timesince import timeuntil

from notifications.models import Notification
from notifications.rendering import absolute_url, render_email
from notifications.services import (
    OutboxEmail,
    notification_create,
    notification_key,
    notifications_insert_select,
)
from sla.selectors import service_tier_members

from . import lookups, mail_thread
from .mail_thread import thread_headers, thread_headers_many
from .models import Ticket, TicketCC
from .promise import customer_zone, ticket_promise


def _about(ticket, *, key, to, template, context, answers=""):
    """One outbox row about ``ticket``, with its threading headers (``mail_thread``);
    ``answers``: the Message-ID of the email this one answers (threaded under it too)."""
    headers = thread_headers(ticket.pk, key)
    if answers:
        headers["In-Reply-To"] = answers
        headers["References"] = f"{headers['References']} {answers}"
    notification_create(key=key, to=to, template=template, context=context, headers=headers)


def received_key(ticket):
    """The outbox key of a ticket's confirmation (inbound mail threads it under the email)."""
    return f"ticket:{ticket.pk}:received"


def ticket_received(ticket, *, answers=""):
    """The confirmation; ``answers``: the customer's email that opened the ticket (inbound
    mail), so their mail client shows the confirmation in that thread."""
    # The promise as it stands when the ticket is filed (its created_at: no clock read here).
    zone = customer_zone(ticket.customer, ticket.service)
    promise = ticket_promise(ticket, zone=zone, now=ticket.created_at)
    _about(
        ticket,
        key=received_key(ticket),
        to=ticket.customer.email,
        template="tickets/ticket_received",
        context={
            "ticket": ticket,
            "url": absolute_url(ticket.get_absolute_url()),
            "promise": promise,
            "support_url": absolute_url(reverse("support:service", args=[ticket.service.slug])),
        },
        answers=answers,
    )


def ticket_new_in_tier(ticket, escalation=None):
    """Tell the staff of the ticket's tier who work its service that it has landed there
    (opened or escalated)."""
    cause = f"escalated:{escalation.pk}" if escalation else "new"
    url = absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    members = lookups.once(
        ("tier_members", ticket.service_id, ticket.tier),
        lambda: list(service_tier_members(ticket.service_id, ticket.tier)),
    )
    for member in members:
        _about(
            ticket,
            key=f"ticket:{ticket.pk}:{cause}:staff:{member.pk}",
            to=member.email,
            template="tickets/staff_new_in_tier",
            context={"ticket": ticket, "url": url, "escalation": escalation, "recipient": member},
        )


def _cc_addresses(ticket):
    """The CCs of the ticket (colleagues the customer added): (user id, address) pairs. They
    hear of it as its customer does, each under their own key."""
    return [
        (user_id, email)
        for user_id, email in TicketCC.objects.filter(ticket=ticket, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email")
    ]


def staff_replied(message):
    ticket = message.ticket
    context = {
        "ticket": ticket,
        "message": message,
        "url": absolute_url(ticket.get_absolute_url()),
    }
    _about(
        ticket,
        key=f"message:{message.pk}:customer",
        to=ticket.customer.email,
        template="tickets/staff_replied",
        context=context,
    )
    for user_id, email in _cc_addresses(ticket):
        _about(
            ticket,
            key=f"message:{message.pk}:cc:{user_id}",
            to=email,
            template="tickets/staff_replied",
            context=context,
        )


def customer_replied(message):
    ticket = message.ticket
    if ticket.assignee is None or not ticket.assignee.email:
        return
    _about(
        ticket,
        key=f"message:{message.pk}:assignee:{ticket.assignee_id}",
        to=ticket.assignee.email,
        template="tickets/customer_replied",
        context={
            "ticket": ticket,
            "message": message,
            "url": absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk])),
        },
    )


def ticket_resolved(ticket):
    # Keyed on the resolution time: a ticket reopened and resolved again is news again.
    key = f"ticket:{ticket.pk}:resolved:{ticket.resolved_at.isoformat()}"
    url = absolute_url(ticket.get_absolute_url())
    _about(
        ticket,
        key=key,
        to=ticket.customer.email,
        template="tickets/ticket_resolved",
        context={"ticket": ticket, "url": url, "rating_url": f"{url}#rate"},
    )
    for user_id, email in _cc_addresses(ticket):
        _about(
            ticket,
            key=f"{key}:cc:{user_id}",
            to=email,
            template="tickets/ticket_resolved",
            context={"ticket": ticket, "url": url, "rating_url": f"{url}#rate"},
        )


# --- SLA: rendered once per batch, filled in per ticket --------------------------------------
#
# A sweep may escalate thousands of tickets at once. Rendering three templates per ticket costs
# about a millisecond; instead each SLA template is rendered once per batch with placeholders
# for everything that differs between tickets, and the placeholders are filled in per ticket
# in one pass (HTML-escaped in the HTML part), so a value is never scanned for placeholders.
# The templates therefore use plain values (preformatted in Python), not filters over fields.

TIMER_LABELS = {"response": "first response", "resolution": "resolution", "pickup": "pickup"}
_PLACEHOLDER = re.compile(r"@@sla\.(\w+)@@")


def _ph(name):
    return f"@@sla.{name}@@"


_TICKET = SimpleNamespace(
    number=_ph("number"),
    subject=_ph("subject"),
    description=_ph("description"),
    tier=_ph("tier"),
    service=SimpleNamespace(name=_ph("service")),
    priority=SimpleNamespace(code=_ph("priority_code"), name=_ph("priority_name")),
    customer=SimpleNamespace(email=_ph("customer")),
)
_FIELDS = ("url", "from_tier", "to_tier", "reason", "actor", "timer_label", "due", "left", "role")


def admin_url(ticket):
    return absolute_url(reverse("admin:tickets_ticket_change", args=[ticket.pk]))


_URL_PK = 987654321


@functools.lru_cache(maxsize=8)
def _admin_url_parts(site_url, script_prefix, urlconf):
    """The admin URL of a ticket around its pk, resolved once per process and setting
    (``reverse`` costs ~0.1 ms, and the process's first one imports the whole URLconf)."""
    return absolute_url(reverse("admin:tickets_ticket_change", args=[_URL_PK])).split(str(_URL_PK))


def _admin_url(ticket, stamps=None):
    """``admin_url``; with ``stamps`` (a batch's), the settings it depends on read once per
    batch (the script prefix and URLconf are context-local lookups, ~20 µs each)."""
    parts = None if stamps is None else stamps.get("admin_url")
    if parts is None:
        parts = _admin_url_parts(settings.SITE_URL, get_script_prefix(), get_urlconf())
        if stamps is not None:
            stamps["admin_url"] = parts
    if len(parts) != 2 or not isinstance(ticket.pk, int):
        return admin_url(ticket)
    return f"{parts[0]}{ticket.pk}{parts[1]}"


def sla_at_risk(ticket, *, key, timer, due_at, now, recipients, stamps=None, rows=None):
    """The "at risk" notice of one timer, for the assignee or the tier.

    Each ``sla_*`` returns its ``OutboxEmail``s; given ``rows`` (a sweep batch's
    ``SlaOutboxRows``, on PostgreSQL) it adds them there, for the database to build, and
    returns []."""
    values = {
        "timer_label": TIMER_LABELS[timer],
        "due": _when(due_at),
        "left": timeuntil(due_at, now),
    }
    return _outbox(key, "sla/at_risk", {}, ticket, values, recipients, stamps, rows)


def sla_escalated(
    ticket, *, key, from_tier, reason, actor, escalated, recipients, stamps=None, rows=None
):
    """The ticket has reached a new tier (``escalated``) or breached at the top tier."""
    values = {
        "from_tier": from_tier,
        "to_tier": ticket.tier,
        "reason": reason,
        "actor": actor.get_username() if actor else "",
    }
    flags = {"escalated": escalated, "by_someone": actor is not None}
    return _outbox(key, "sla/escalated", flags, ticket, values, recipients, stamps, rows)


def sla_management(ticket, *, key, role, due_at, recipients, stamps=None, rows=None):
    """A management role hears of an unresolved ticket past its resolution deadline."""
    values = {"role": role, "due": _when(due_at)}
    return _outbox(key, "sla/management", {}, ticket, values, recipients, stamps, rows)


def _when(moment):
    return f"{moment:%a %d %b %Y %H:%M} UTC"


# What differs from ticket to ticket in an SLA email; everything else in it (the service, the
# priority, the tier, the step's wording) is shared by many tickets of a batch.
_PER_TICKET = ("number", "subject", "description", "customer", "url")


def _outbox(key, template, flags, ticket, values, recipients, stamps, rows=None):
    """One outbox row per recipient address (keys unique per recipient).

    The template is rendered once per batch with placeholders (``_stamp``); per distinct set
    of shared values (service, priority, tier, the step's wording) the placeholders of those
    are filled in once (``_filled``), leaving a ``%``-format of only the ticket's own values,
    which each ticket fills in with one C-level substitution per part (given ``rows``, the
    database fills them in: ``SlaOutboxRows``).
    """
    addresses = sorted({address for address in recipients if address})
    if not addresses:
        return []
    if rows is not None:
        stamps = rows.stamps
    stamps = {} if stamps is None else stamps
    priority = ticket.priority
    # Each template's flags and values come in a fixed order (the sla_* functions above).
    shared = (
        template,
        *flags.values(),
        ticket.tier,
        ticket.service.name,
        priority.code,
        priority.name,
        *values.values(),
    )
    formats = stamps.get(shared)
    if formats is None:
        shared_values = {
            "tier": ticket.tier,
            "service": ticket.service.name,
            "priority_code": priority.code,
            "priority_name": priority.name,
            **values,
        }
        formats = stamps[shared] = _filled(_stamp(template, flags, stamps), shared_values)
    number, url = ticket.number, _admin_url(ticket, stamps)
    if rows is not None and len(stamps["admin_url"]) == 2:
        # Only the subject here (squashed as Python splits whitespace); the bodies and headers
        # are the database's.
        values = {
            "number": number,
            "subject": str(ticket.subject),
            "description": str(ticket.description),
            "customer": str(ticket.customer.email),
            "url": url,
        }
        subject = " ".join((formats[0] % values).split())[:255]
        rows.add(ticket.pk, key, shared, formats, subject, addresses)
        return []
    subject, description = str(ticket.subject), str(ticket.description)
    customer = str(ticket.customer.email)
    raw = {
        "number": number,
        "subject": subject,
        "description": description,
        "customer": customer,
        "url": url,
    }
    # What django.utils.html.escape returns, without its lazy-string wrapper (~25 µs a call).
    escape = _html.escape
    escaped = {
        "number": escape(number),
        "subject": escape(subject),
        "description": escape(description),
        "customer": escape(customer),
        "url": escape(url),
    }
    subject = " ".join((formats[0] % raw).split())[:255]
    text, html = formats[1] % raw, formats[2] % escaped
    keys = [notification_key(key, address) for address in addresses]
    return [
        OutboxEmail(
            key=row_key,
            to=address,
            subject=subject,
            body_text=text,
            body_html=html,
            headers=headers,
        )
        for address, row_key, headers in zip(
            addresses, keys, thread_headers_many(ticket.pk, keys), strict=True
        )
    ]


def _stamp(template, flags, stamps):
    """The template rendered with a placeholder for every value, split at the placeholders:
    (subject, text, HTML) pieces, alternately literal text and a placeholder's name."""
    stamp_key = (template, tuple(sorted(flags.items())))
    stamp = stamps.get(stamp_key)
    if stamp is None:
        context = {"ticket": _TICKET, **{name: _ph(name) for name in _FIELDS}, **flags}
        rendered = render_email(template, context)
        stamp = stamps[stamp_key] = tuple(
            _PLACEHOLDER.split(part) for part in (rendered.subject, rendered.text, rendered.html)
        )
    return stamp


def _filled(stamp, shared):
    """``stamp``'s (subject, text, HTML) with the ``shared`` values put in (HTML-escaped in the
    HTML part) and the ticket's own as ``%(name)s``; a name neither knows is left empty."""
    raw = {name: str(value) for name, value in shared.items()}
    escaped = {name: _html.escape(value) for name, value in raw.items()}
    subject, text, html = stamp
    return (
        _format(subject, raw),
        _format(text, raw),
        _format(html, escaped),
        # The same for PostgreSQL's ``format()`` (``SlaOutboxRows``).
        _format(text, raw, "%{1}$s"),
        _format(html, escaped, "%{1}$s"),
    )


def _format(pieces, values, per_ticket="%({0})s"):
    """The pieces joined, the shared ``values`` put in and each of the ticket's own left as
    ``per_ticket`` formatted with its name and its position (1-based) in ``_PER_TICKET``:
    Python's ``%(name)s`` or PostgreSQL ``format()``'s ``%3$s``."""
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(piece.replace("%", "%%"))
        elif piece in _PER_TICKET:
            out.append(per_ticket.format(piece, _PER_TICKET.index(piece) + 1))
        else:
            out.append(values.get(piece, "").replace("%", "%%"))
    return "".join(out)


# --- SLA, on PostgreSQL: the bodies and headers built by the database -----------------------
#
# A sweep on PostgreSQL hands the outbox, per email, only the ticket, the step's key, which
# shared rendering it uses (``_filled``: the same text for every ticket of a tier, service,
# priority and step wording) and its recipients. One ``INSERT … SELECT`` then fills in each
# ticket's own values with ``format()`` (HTML-escaped in the HTML part, as ``html.escape``
# does) and signs its threading headers (``mail_thread``'s HMAC-SHA256, written out with
# ``sha256()``), so the 20,000 bodies of 10,000 escalations are neither built in Python nor
# sent to the server. ``tests/tickets/test_sla_email_rendering.py`` checks every byte against
# each ticket's own rendering.


def _sql_escaped(value):
    """``html.escape(value)`` in SQL: the same five replacements, ``&`` first."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        value = f"replace({value}, '{char}', '{entity}')"
    return f"replace({value}, chr(39), '&#x27;')"


def _sql_signed(purpose, value):
    """``mail_thread``'s signature of ``value`` in SQL: HMAC-SHA256 (RFC 2104) from the key's
    inner and outer pads (columns ``<purpose>_in``, ``<purpose>_out`` of ``s``)."""
    inner = f"sha256(s.{purpose}_in || convert_to({value}, 'UTF8'))"
    return f"left(encode(sha256(s.{purpose}_out || {inner}), 'hex'), {mail_thread.SIG_LENGTH})"


def _hmac_pads(key):
    key = key.ljust(64, b"\0")  # a SHA-256 key (32 bytes) padded to the hash's block size
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class SlaOutboxRows:
    """A PostgreSQL sweep batch's SLA emails, for the database to build (``insert``)."""

    def __init__(self):
        self.stamps = {}  # the batch's renderings (``_stamp``, ``_filled``)
        self.formats = {}  # a shared key of ``_outbox`` -> its index (1-based) in the arrays
        self.text_formats, self.html_formats = [], []
        self.address_lists = {}  # a tuple of sorted addresses -> its index (1-based)
        self.tickets, self.keys, self.subjects = [], [], []
        self.format_of, self.addresses_of = [], []
        self.count = 0

    def add(self, ticket_pk, key, shared, formats, subject, addresses):
        index = self.formats.get(shared)
        if index is None:
            index = self.formats[shared] = len(self.formats) + 1
            self.text_formats.append(formats[3])
            self.html_formats.append(formats[4])
        group = self.address_lists.setdefault(tuple(addresses), len(self.address_lists) + 1)
        self.tickets.append(ticket_pk)
        self.keys.append(key)
        self.subjects.append(subject)
        self.format_of.append(index)
        self.addresses_of.append(group)
        self.count += len(addresses)

    def insert(self):
        """Record the batch's emails in one ``INSERT … SELECT``; returns how many."""
        if not self.tickets:
            return 0
        url = self.stamps["admin_url"]
        name, local, domain = mail_thread.sender_parts()
        reply_to = mail_thread.reply_to_parts(name, local, domain)
        message_in, message_out = _hmac_pads(mail_thread.signing_key("message-id"))
        reply_in, reply_out = _hmac_pads(mail_thread.signing_key("reply"))
        groups = [(n, a) for addresses, n in self.address_lists.items() for a in addresses]
        key_length = Notification._meta.get_field("key").max_length
        pk = "t.id::text"
        values = [f"'#' || {pk}", "t.subject", "t.description", "c.email", f"%b || {pk} || %b"]
        quote = connection.ops.quote_name
        tickets = quote(Ticket._meta.db_table)
        users = quote(get_user_model()._meta.db_table)
        select = f"""
            WITH s AS (
                SELECT %b::bytea AS message_in, %b::bytea AS message_out,
                       %b::bytea AS reply_in, %b::bytea AS reply_out, %b::text AS domain
            ), e AS MATERIALIZED (
                -- once per ticket (not per recipient): its bodies, its thread root, its Reply-To
                SELECT e.n, e.prefix, e.g, e.subject, t.id,
                       '<ticket-' || {pk} || '-root-'
                           || {_sql_signed("message", f"{pk} || '-root'")}
                           || '@' || s.domain || '>' AS root,
                       %b || {pk} || '-' || {_sql_signed("reply", pk)} || %b AS reply_to,
                       format((%b::text[])[e.f], {", ".join(values)}) AS body_text,
                       format((%b::text[])[e.f], {", ".join(map(_sql_escaped, values))})
                           AS body_html
                FROM unnest(%b::bigint[], %b::text[], %b::int[], %b::int[], %b::text[])
                     WITH ORDINALITY AS e(ticket_id, prefix, f, g, subject, n)
                JOIN {tickets} t ON t.id = e.ticket_id
                JOIN {users} c ON c.id = t.customer_id
                CROSS JOIN s
            )
            SELECT k.key, r.address, e.subject, e.body_text, e.body_html,
                   jsonb_build_object(
                       'Message-ID', '<ticket-' || e.id || '-' || k.part || '-'
                           || {_sql_signed("message", "e.id || '-' || k.part")}
                           || '@' || s.domain || '>',
                       'In-Reply-To', e.root, 'References', e.root, 'Reply-To', e.reply_to)
            FROM e
            JOIN unnest(%b::int[], %b::text[]) WITH ORDINALITY AS r(g, address, m) ON r.g = e.g
            CROSS JOIN LATERAL (
                SELECT CASE WHEN char_length(e.prefix || ':' || r.address) <= {key_length}
                            THEN e.prefix || ':' || r.address
                            ELSE e.prefix || ':'
                                 || encode(sha256(convert_to(r.address, 'UTF8')), 'hex')
                       END AS key
            ) AS k0
            CROSS JOIN LATERAL (
                SELECT k0.key, left(encode(sha256(convert_to(k0.key, 'UTF8')), 'hex'), 16) AS part
            ) AS k
            CROSS JOIN s
            ORDER BY e.n, r.m
        """  # noqa: S608 -- table names from the models; every value is a bound parameter
        notifications_insert_select(
            select=select,
            params=[
                message_in,
                message_out,
                reply_in,
                reply_out,
                domain,
                *reply_to,
                self.text_formats,
                *url,
                self.html_formats,
                *url,
                self.tickets,
                self.keys,
                self.format_of,
                self.addresses_of,
                self.subjects,
                [n for n, _ in groups],
                [a for _, a in groups],
            ],
        )
        return self.count
