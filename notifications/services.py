"""Record notifications in the outbox and deliver them, each once.

A notification is written in the transaction of the event that causes it, so a rolled-back
event sends nothing. After commit a task delivers it; when the broker is down or a worker dies,
the beat sweep finds the row still pending and delivers it.

The per-row task (``notification_send``) delivers its row in its own short transaction that
holds the row's lock (``FOR UPDATE SKIP LOCKED``) while the mail server is talked to, and
commits it as sent right after.

The sweep (``notifications_send_due``) delivers in groups of ``batch_size`` rows: one
transaction locks the group (``SELECT … FOR UPDATE SKIP LOCKED LIMIT n``), hands each message
to the mail server over the sweep's one connection, and marks the group's sent rows in one
``UPDATE`` before it commits. So:

- no two workers (tasks or sweeps) ever send the same row: a locked row is skipped, and a row
  found sent after its lock is not sent;
- a worker killed half-way leaves every committed group sent and every row of the group in
  flight pending (its transaction rolls back), for the next sweep;
- the price of batching, and the bound: the messages of the group in flight that the mail
  server accepted before the crash are sent again — at most ``batch_size`` (100 by default)
  per crash, instead of one. Delivery is at least once, never silently dropped, and at most
  one group's worth duplicated per crash; the per-row path keeps its bound of one.

A failed message is recorded on its own row (attempt, error, backoff) inside the group's
transaction; one that cannot reach the mail server at all ends the sweep.

An address a delivery report said bounces (``SuppressedAddress``, recorded by inbound mail) is
not sent to: its rows become ``suppressed``, the reason in ``last_error``.
"""

import enum
import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import make_msgid, sanitize_address
from django.core.mail.utils import DNS_NAME
from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from core.sql import execute_bound

from .models import Notification, NotificationBody, SuppressedAddress
from .rendering import render_email

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)

Status = Notification.Status


class _Outcome(enum.Enum):
    SENT = "sent"
    FAILED = "failed"  # this message failed; the next one may well go through
    UNREACHABLE = "unreachable"  # no connection to the mail server: the rest would fail too
    SKIPPED = "skipped"  # sent already, not due, or being sent by someone else right now


def notification_key(prefix, address):
    """``prefix:address``, the address hashed when the key would not fit the outbox's column:
    one recipient's notification of one event, recorded once."""
    key = f"{prefix}:{address}"
    if len(key) <= Notification._meta.get_field("key").max_length:
        return key
    return f"{prefix}:{hashlib.sha256(address.encode()).hexdigest()}"


@transaction.atomic
def notification_create(*, key, to, template, context, headers=None, attachments=None):
    """Record one email for ``to``; a second call with the same key changes nothing.
    ``attachments``: ``[(filename, content type, text), ...]`` sent with it."""
    rendered = render_email(template, context)
    notification, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "to": to,
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "headers": headers or {},
            "attachments": [list(item) for item in attachments] if attachments else None,
        },
    )
    if created:
        transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)
    return notification


@transaction.atomic
def notification_headers_update(*, key, headers):
    """Add ``headers`` to the notification ``key`` while it is still pending (e.g. to thread a
    confirmation under the email that caused it); one already sent is left as it went out.
    Returns True when the row was updated."""
    notification = (
        Notification.objects.select_for_update()
        .filter(key=key, status=Status.PENDING)
        .order_by()
        .first()
    )
    if notification is None:
        return False
    notification.headers = {**(notification.headers or {}), **headers}
    notification.save(update_fields=["headers"])
    return True


@dataclass(frozen=True)
class OutboxEmail:
    """An email already rendered (see ``rendering.render_email``), ready to be recorded."""

    key: str
    to: str
    subject: str
    body_text: str = ""
    body_html: str = ""
    headers: dict = field(default_factory=dict)
    # Shared content (``notification_body_create``) and this recipient's placeholders, instead
    # of a body of its own: a bulk notice stores its content once, not once per recipient.
    body: object = None
    substitutions: dict = field(default_factory=dict)


@transaction.atomic
def notifications_create_many(*, emails, batch_size=1000):
    """Record many emails in a few INSERTs; a key already in the outbox is left as it is.

    For sweeps that notify thousands of people at once (escalations, maintenance notices): one
    ``INSERT … ON CONFLICT DO NOTHING`` per ``batch_size`` rows instead of a query pair per
    email, and one sweep task after commit instead of a task per email.
    """
    rows = [
        Notification(
            key=email.key,
            to=email.to,
            subject=" ".join(email.subject.split())[:255],
            body_text=email.body_text,
            body_html=email.body_html,
            headers=email.headers,
            body=email.body,
            substitutions=email.substitutions,
        )
        for email in emails
    ]
    if not rows:
        return 0
    Notification.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    transaction.on_commit(_enqueue_sweep, robust=True)
    return len(rows)


def notifications_insert_many(*, emails):
    """``notifications_create_many`` in one statement: what a sweep in a hurry calls.

    Same rows, same ``ON CONFLICT DO NOTHING`` and the same sweep task after commit. On
    PostgreSQL the rows go as a handful of arrays bound server-side in binary
    (``INSERT … SELECT FROM unnest(…)``) instead of through model instances and client-side
    quoting, which cost more Python time than the database spent writing them; elsewhere
    (SQLite) it is ``notifications_create_many``.
    """
    db = connections[Notification.objects.db]
    if db.vendor != "postgresql":
        return notifications_create_many(emails=emails, batch_size=10_000)
    if not emails:
        return 0
    now = timezone.now()
    columns = list(zip(*(_outbox_row(email) for email in emails), strict=True))
    table = db.ops.quote_name(Notification._meta.db_table)
    sql = (
        f"INSERT INTO {table} (key, {db.ops.quote_name('to')}, subject, body_text, "  # noqa: S608
        "body_html, headers, body_id, substitutions, status, attempts, next_attempt_at, "
        "last_error, created_at) "
        "SELECT k, t, s, bt, bh, h::jsonb, b::bigint, sub::jsonb, %b, 0, %b, '', %b "
        "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], "
        "%b::text[], %b::text[]) AS r(k, t, s, bt, bh, h, b, sub) ON CONFLICT DO NOTHING"
    )
    params = [Status.PENDING.value, now, now, *(list(column) for column in columns)]
    execute_bound(sql, params, db=db)
    transaction.on_commit(_enqueue_sweep, robust=True)
    return len(emails)


def _outbox_row(email):
    body_id = None if email.body is None else email.body.pk
    return (
        email.key,
        email.to,
        " ".join(email.subject.split())[:255],
        email.body_text,
        email.body_html,
        json.dumps(email.headers),
        None if body_id is None else str(body_id),
        json.dumps(email.substitutions),
    )


def notification_body_create(*, subject, body_text, body_html=""):
    """Content many outbox rows share; placeholders in it are filled per row on delivery."""
    return NotificationBody.objects.create(
        subject=" ".join(subject.split())[:255], body_text=body_text, body_html=body_html
    )


def notification_send(*, notification_id, now=None):
    """Deliver one pending notification now, due or not. Returns True when this call sent it."""
    return _send_one(notification_id, due_by=None, now=now, connection=None) is _Outcome.SENT


def notifications_send_due(*, now=None, batch_size=100):
    """Deliver every pending notification whose attempt is due. Returns how many were sent.

    A group of ``batch_size`` due rows at a time, locked, sent over one SMTP connection and
    committed together (see the module docstring for what a crash costs). A constant number of
    queries per group: lock-and-read, one UPDATE for the sent rows, plus one per failure.
    """
    due_by = now or timezone.now()
    sent = 0
    connection = get_connection()
    compiled = {}  # shared body id → its MIME message serialised once (see _Compiled)
    try:
        while True:
            count, outcome, locked = _send_group(
                due_by=due_by, now=now, connection=connection, size=batch_size, compiled=compiled
            )
            sent += count
            if outcome is _Outcome.UNREACHABLE:
                # Stop rather than wait out a connect timeout per row; the rows left are
                # still pending, with their attempts untouched, for the next sweep.
                logger.warning("Mail server unreachable; the next sweep will carry on")
                return sent
            if locked < batch_size:
                return sent
    finally:
        _close_quietly(connection)


def _send_group(*, due_by, now, connection, size, compiled):
    """Lock up to ``size`` due rows, send them, commit. Returns (sent, last outcome, locked)."""
    with transaction.atomic():
        if connections[Notification.objects.db].vendor == "postgresql":
            # Right after a bulk insert the table has no statistics yet; the planner then
            # expects a dozen due rows and sorts all of them for each group (100,000 rows
            # sorted a thousand times). Read the (next_attempt_at, id) index in order instead.
            with connections[Notification.objects.db].cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort = off")
        group = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("body")
            # Whether the address bounces, in the same read (no query more per group).
            .annotate(
                bouncing=Exists(SuppressedAddress.objects.filter(address=Lower(OuterRef("to"))))
            )
            .filter(status=Status.PENDING, next_attempt_at__lte=due_by)
            .order_by("next_attempt_at", "pk")[:size]
        )
        when = now or timezone.now()
        sent_ids, suppressed_ids = [], []
        outcome = None
        for notification in group:
            if notification.bouncing:
                suppressed_ids.append(notification.pk)
                continue
            outcome = _deliver(
                notification, now=when, connection=connection, save=False, compiled=compiled
            )
            if outcome is _Outcome.SENT:
                sent_ids.append(notification.pk)
            elif outcome is _Outcome.UNREACHABLE:
                break
        if sent_ids:
            Notification.objects.filter(pk__in=sent_ids).update(
                status=Status.SENT, sent_at=when, last_error="", attempts=F("attempts") + 1
            )
        if suppressed_ids:
            Notification.objects.filter(pk__in=suppressed_ids).update(
                status=Status.SUPPRESSED, last_error=_SUPPRESSED_NOTE
            )
        return len(sent_ids), outcome, len(group)


_SUPPRESSED_NOTE = (
    "Not sent: the address bounces (a delivery report said so; admin → Suppressed addresses)."
)


def _bouncing(addresses):
    """The lowercase addresses among ``addresses`` the outbox must not send to."""
    wanted = {address.lower() for address in addresses}
    if not wanted:
        return set()
    return set(
        SuppressedAddress.objects.filter(address__in=wanted).values_list("address", flat=True)
    )


@transaction.atomic
def address_suppress(*, address, reason):
    """Stop sending to ``address`` (a delivery report said it bounces); pending rows to it
    are marked suppressed at once. Returns True when the address was not suppressed before."""
    address = address.strip().lower()
    _row, created = SuppressedAddress.objects.get_or_create(
        address=address, defaults={"reason": reason[:2000]}
    )
    Notification.objects.filter(to__iexact=address, status=Status.PENDING).update(
        status=Status.SUPPRESSED, last_error=_SUPPRESSED_NOTE
    )
    return created


@transaction.atomic
def address_unsuppress(*, address):
    """Send to ``address`` again (staff, once it works); earlier suppressed rows stay as they
    are (admin's "Retry delivery" queues them). Returns True when it was suppressed."""
    deleted, _ = SuppressedAddress.objects.filter(address=address.strip().lower()).delete()
    return bool(deleted)


@transaction.atomic
def notifications_retry_failed(*, notifications):
    """Queue every failed notification of ``notifications`` (a queryset) again, in one UPDATE.

    Rows sent or still pending are left alone; one sweep is enqueued after commit.
    """
    count = notifications.filter(status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    if count:
        transaction.on_commit(_enqueue_sweep, robust=True)
    return count


@transaction.atomic
def notification_retry(*, notification):
    """Queue a failed (or waiting) notification for delivery now, with a fresh set of attempts.

    Staff do this from admin. A notification that has been sent is left alone, so retrying a
    selection never sends anything twice. Returns True when the notification was queued.
    """
    notification = (
        Notification.objects.select_for_update().filter(pk=notification.pk).order_by().first()
    )
    if notification is None or notification.status == Status.SENT:
        return False
    notification.status = Status.PENDING
    notification.attempts = 0
    notification.next_attempt_at = timezone.now()
    notification.save(update_fields=["status", "attempts", "next_attempt_at"])
    transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)
    return True


def _enqueue_delivery(notification_id):
    from .tasks import send_notification

    try:
        send_notification.delay(notification_id)
    except Exception:  # the broker is down; the row stays pending for the sweep
        logger.warning(
            "Could not enqueue notification %s; the outbox sweep will deliver it",
            notification_id,
            exc_info=True,
        )


def _enqueue_sweep():
    from .tasks import send_pending_notifications

    try:
        send_pending_notifications.delay()
    except Exception:  # the broker is down; beat runs the sweep within a minute anyway
        logger.warning("Could not enqueue the outbox sweep; beat will run it", exc_info=True)


def _send_one(pk, *, due_by, now, connection):
    """Lock one row, send it, and commit the outcome before the next row is touched."""
    with transaction.atomic():
        rows = Notification.objects.select_for_update(skip_locked=True).filter(
            pk=pk, status=Status.PENDING
        )
        if due_by is not None:
            rows = rows.filter(next_attempt_at__lte=due_by)
        notification = rows.order_by().first()
        if notification is None:
            return _Outcome.SKIPPED
        if _bouncing([notification.to]):
            notification.status = Status.SUPPRESSED
            notification.last_error = _SUPPRESSED_NOTE
            notification.save(update_fields=["status", "last_error"])
            return _Outcome.SKIPPED
        return _deliver(notification, now=now or timezone.now(), connection=connection)


def _deliver(notification, *, now, connection, save=True, compiled=None):
    """Send one locked row. A failure is saved at once; a success only when ``save`` (the
    sweep marks its group's sent rows together)."""
    notification.attempts += 1
    if connection is not None:
        try:
            connection.open()  # a no-op while the sweep's connection is open
        except Exception as exc:
            _record_failure(notification, exc, now=now)
            return _Outcome.UNREACHABLE
    try:
        fast = _Compiled.for_row(notification, connection, compiled)
        if fast is not None:
            fast.send(notification, connection)
        else:
            subject, text, html, headers = notification.content()
            message = EmailMultiAlternatives(
                subject=subject,
                body=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[notification.to],
                headers=headers or None,
                connection=connection,
            )
            if html:
                message.attach_alternative(html, "text/html")
            for filename, content_type, content in notification.attachments or ():
                message.attach(filename, content, content_type)
            if message.send() == 0:
                # A backend reports 0 when it dropped the message (no usable recipient).
                raise ValueError(f"the mail backend sent nothing to {notification.to!r}")
    except Exception as exc:
        _record_failure(notification, exc, now=now)
        if connection is not None:
            # The session may be broken (disconnect, protocol error); the next row reconnects.
            _close_quietly(connection)
        return _Outcome.FAILED
    notification.status = Status.SENT
    notification.sent_at = now
    notification.last_error = ""
    if save:
        notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    return _Outcome.SENT


_TO_PLACEHOLDER = "recipient@outbox-placeholder.invalid"


class _Compiled:
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
        if cache is None or notification.body_id is None:
            return None
        if not isinstance(connection, SMTPBackend) or connection.connection is None:
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


def _record_failure(notification, exc, *, now):
    notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.status = Status.FAILED
        logger.error(
            "Giving up on notification %s (%s) after %s attempts: %s",
            notification.pk,
            notification.key,
            notification.attempts,
            notification.last_error,
        )
    else:
        notification.next_attempt_at = now + _backoff(notification.attempts)
        logger.warning(
            "Notification %s (%s) failed, retrying at %s: %s",
            notification.pk,
            notification.key,
            notification.next_attempt_at.isoformat(),
            notification.last_error,
        )
    notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


def _backoff(attempts):
    """2, 4, 8 … minutes after the failed attempt, at most an hour."""
    # The exponent is capped so a large NOTIFICATION_MAX_ATTEMPTS cannot overflow timedelta.
    return min(timedelta(minutes=2 ** min(attempts, 16)), MAX_BACKOFF)


def _close_quietly(connection):
    # Closing runs after rows are committed as sent; a failed QUIT must not undo anything.
    try:
        connection.close()
    except Exception:
        logger.warning("Could not close the mail connection cleanly", exc_info=True)
