"""Deliver the outbox's rows (``services.py`` records them), each once.

The per-row task (``notification_send``) delivers its row in its own short transaction that
holds the row's lock (``FOR UPDATE SKIP LOCKED``) while the mail server is talked to, and
commits it as sent right after.

The sweep (``notifications_send_due``) delivers in groups of ``batch_size`` rows: one
transaction locks the group (``SELECT … FOR UPDATE SKIP LOCKED LIMIT n``), hands each message
to the mail server, and marks the group's sent rows in one ``UPDATE`` before it commits. Over
SMTP the group's messages are spread over ``NOTIFICATION_SMTP_CONNECTIONS`` connections sending
at once, a thread each (``smtp_pool``: a conversation is ~4 round trips, so one connection
mostly waits); the threads only talk to the mail server, the sweep's thread records every
outcome in the group's transaction. So:

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
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from .models import Notification, NotificationBody, SuppressedAddress
from .smtp_fastpath import CompiledMessage
from .smtp_pool import NOT_TRIED, SMTPPool, Unreachable

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)

Status = Notification.Status


class _Outcome(enum.Enum):
    SENT = "sent"
    FAILED = "failed"  # this message failed; the next one may well go through
    UNREACHABLE = "unreachable"  # no connection to the mail server: the rest would fail too
    SKIPPED = "skipped"  # sent already, not due, or being sent by someone else right now


def notification_send(*, notification_id, now=None):
    """Deliver one pending notification now, due or not. Returns True when this call sent it."""
    return _send_one(notification_id, due_by=None, now=now, connection=None) is _Outcome.SENT


def notifications_send_due(*, now=None, batch_size=100, smtp_connections=None):
    """Deliver every pending notification whose attempt is due. Returns how many were sent.

    A group of ``batch_size`` due rows at a time, locked, sent and committed together (see the
    module docstring for what a crash costs). Over SMTP the group is spread over
    ``smtp_connections`` connections (default ``NOTIFICATION_SMTP_CONNECTIONS``) sending at
    once (``smtp_pool``); other backends, or 1, send over one connection in order. A constant
    number of queries per group: lock-and-read, one UPDATE for the sent rows, plus one per
    failure.
    """
    due_by = now or timezone.now()
    if smtp_connections is None:
        smtp_connections = settings.NOTIFICATION_SMTP_CONNECTIONS
    sent = 0
    connection = get_connection()
    pool = None
    if smtp_connections > 1 and isinstance(connection, SMTPBackend):
        pool = SMTPPool([connection, *(get_connection() for _ in range(smtp_connections - 1))])
    compiled = {}  # shared body id → its MIME message serialised once (see CompiledMessage)
    bodies = {}  # shared body id → the body, read once per sweep
    try:
        while True:
            count, outcome, locked = _send_group(
                due_by=due_by,
                now=now,
                connection=connection,
                pool=pool,
                size=batch_size,
                compiled=compiled,
                bodies=bodies,
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
        if pool is not None:
            pool.close()
        else:
            _close_quietly(connection)


def _send_group(*, due_by, now, connection, pool, size, compiled, bodies):
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
            # Whether the address bounces, in the same read (no query more per group).
            .annotate(
                bouncing=Exists(SuppressedAddress.objects.filter(address=Lower(OuterRef("to"))))
            )
            .filter(status=Status.PENDING, next_attempt_at__lte=due_by)
            .order_by("next_attempt_at", "pk")[:size]
        )
        _attach_bodies(group, bodies)
        when = now or timezone.now()
        suppressed_ids = [n.pk for n in group if n.bouncing]
        wanted = [n for n in group if not n.bouncing]
        if pool is None:
            sent_ids, outcome = _send_in_order(
                wanted, now=when, connection=connection, compiled=compiled
            )
        else:
            sent_ids, outcome = _send_pooled(wanted, now=when, pool=pool, compiled=compiled)
        if sent_ids:
            Notification.objects.filter(pk__in=sent_ids).update(
                status=Status.SENT, sent_at=when, last_error="", attempts=F("attempts") + 1
            )
        if suppressed_ids:
            Notification.objects.filter(pk__in=suppressed_ids).update(
                status=Status.SUPPRESSED, last_error=SUPPRESSED_NOTE
            )
        return len(sent_ids), outcome, len(group)


def _attach_bodies(group, bodies):
    """Give each row its shared body from ``bodies``, reading the ones not seen yet in one
    query. Not joined into the group's read: a notice's body (a few KB) would come back with
    each of its 100,000 rows, which cost more than sending them."""
    missing = {row.body_id for row in group if row.body_id is not None} - bodies.keys()
    if missing:
        bodies.update(NotificationBody.objects.in_bulk(missing))
    for row in group:
        if row.body_id is not None:
            row.body = bodies[row.body_id]


def _send_in_order(group, *, now, connection, compiled):
    """Send the group's rows one after the other over ``connection``."""
    sent_ids, outcome = [], None
    for notification in group:
        outcome = _deliver(
            notification, now=now, connection=connection, save=False, compiled=compiled
        )
        if outcome is _Outcome.SENT:
            sent_ids.append(notification.pk)
        elif outcome is _Outcome.UNREACHABLE:
            break
    return sent_ids, outcome


def _send_pooled(group, *, now, pool, compiled):
    """Send the group's rows over the pool's connections at once; record their outcomes here,
    in the group's transaction (the pool's threads never touch the database)."""
    messages = [_smtp_message(notification, compiled) for notification in group]
    sent_ids, outcome = [], None
    for notification, result in zip(group, pool.send(messages), strict=True):
        if result is NOT_TRIED:
            continue
        notification.attempts += 1
        if result is None:
            sent_ids.append(notification.pk)
            outcome = outcome or _Outcome.SENT
        elif isinstance(result, Unreachable):
            _record_failure(notification, result.error, now=now)
            outcome = _Outcome.UNREACHABLE
        else:
            _record_failure(notification, result, now=now)
            if outcome is not _Outcome.UNREACHABLE:
                outcome = _Outcome.FAILED
    return sent_ids, outcome


def _smtp_message(notification, compiled):
    """``notification`` as a callable sending it over an open SMTP backend. Built here, in the
    sweep's thread: the shared-body cache is filled by one thread only."""
    fast = CompiledMessage.for_smtp_row(notification, compiled)
    if fast is not None:
        return lambda backend: fast.send(notification, backend)
    message = _email_message(notification)

    def send(backend):
        if backend.send_messages([message]) == 0:
            raise ValueError(f"the mail backend sent nothing to {notification.to!r}")

    return send


def _email_message(notification, connection=None):
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
    return message


SUPPRESSED_NOTE = (
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
            notification.last_error = SUPPRESSED_NOTE
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
        fast = CompiledMessage.for_row(notification, connection, compiled)
        if fast is not None:
            fast.send(notification, connection)
        else:
            message = _email_message(notification, connection)
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
