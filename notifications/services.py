"""The outbox: record each notification once, in the transaction of the event that causes it.

A notification is written in the transaction of the event that causes it, so a rolled-back
event sends nothing; its unique ``key`` (``notification_key``) names the event and recipient,
so the same event never makes a second row. After commit a task delivers it; when the broker
is down or a worker dies, the beat sweep finds the row still pending and delivers it
(``delivery.py``). Also here: addresses not to send to (``address_suppress``) and staff's
retries, which queue rows for delivery again.
"""

import functools
import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import partial

from django.db import connections, transaction
from django.utils import timezone

from core.sql import execute_bound

from .delivery import SUPPRESSED_NOTE
from .models import Notification, NotificationBody, SuppressedAddress
from .rendering import render_email

logger = logging.getLogger(__name__)

Status = Notification.Status


def notification_key(prefix, address):
    """``prefix:address``, the address hashed when the key would not fit the outbox's column:
    one recipient's notification of one event, recorded once."""
    key = f"{prefix}:{address}"
    if len(key) <= Notification._meta.get_field("key").max_length:
        return key
    return f"{prefix}:{hashlib.sha256(address.encode()).hexdigest()}"


def notification_create(*, key, to, template, context, headers=None, attachments=None):
    """Record one email for ``to``; a second call with the same key changes nothing.
    ``attachments``: ``[(filename, content type, text), ...]`` sent with it.

    One statement, ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING id``, in the caller's
    transaction: no savepoint (nothing here raises an error a caller would catch and carry on
    from; a key recorded before is no error) and no read first. A concurrent insert of the
    same key waits for the other transaction and then does nothing, as ``get_or_create`` did.
    Returns the row (the one recorded before, read, when the key was taken)."""
    rendered = render_email(template, context)
    notification = Notification(
        key=key,
        to=to,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        headers=headers or {},
        attachments=[list(item) for item in attachments] if attachments else None,
    )
    db = connections[Notification.objects.db]
    sql, fields = _insert_one_sql(db.alias, db.vendor)
    params = [field.get_db_prep_save(getattr(notification, field.attname), db) for field in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # the key was recorded before: that row stands
        return Notification.objects.get(key=key)
    notification.pk = row[0]
    notification._state.adding = False
    notification._state.db = db.alias
    transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)
    return notification


@functools.cache
def _insert_one_sql(alias, vendor):
    """``notification_create``'s INSERT for the database ``alias`` (built once per process:
    compiling it through the ORM on every call cost more than the database's insert)."""
    db = connections[alias]
    fields = [field for field in Notification._meta.concrete_fields if not field.primary_key]
    quote = db.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote('key')}) DO NOTHING RETURNING {quote('id')}"
    )
    return sql, fields


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


def notifications_insert_select(*, select, params):
    """Record the emails a query builds, in one ``INSERT … SELECT`` (PostgreSQL only): for a
    sweep whose bodies the database fills in (``tickets.emails.SlaOutboxRows``).

    ``select`` yields (key, to, subject, body_text, body_html, headers as jsonb) rows, its
    ``params`` bound server-side (``%b``, ``execute_bound``); the rows are recorded as
    ``notifications_insert_many`` records them (own body, pending, due now, ``ON CONFLICT DO
    NOTHING``), with the same sweep task after commit."""
    db = connections[Notification.objects.db]
    now = timezone.now()
    table = db.ops.quote_name(Notification._meta.db_table)
    sql = (
        f"INSERT INTO {table} (key, {db.ops.quote_name('to')}, subject, body_text, "  # noqa: S608
        "body_html, headers, body_id, substitutions, status, attempts, next_attempt_at, "
        "last_error, created_at) "
        "SELECT k, t, s, bt, bh, h, NULL, '{}'::jsonb, %b, 0, %b, '', %b "
        f"FROM ({select}) AS r(k, t, s, bt, bh, h) ON CONFLICT DO NOTHING"
    )
    execute_bound(sql, [Status.PENDING.value, now, now, *params], db=db)
    transaction.on_commit(_enqueue_sweep, robust=True)


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


@transaction.atomic
def address_suppress(*, address, reason):
    """Stop sending to ``address`` (a delivery report said it bounces); pending rows to it
    are marked suppressed at once. Returns True when the address was not suppressed before."""
    address = address.strip().lower()
    _row, created = SuppressedAddress.objects.get_or_create(
        address=address, defaults={"reason": reason[:2000]}
    )
    Notification.objects.filter(to__iexact=address, status=Status.PENDING).update(
        status=Status.SUPPRESSED, last_error=SUPPRESSED_NOTE
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
