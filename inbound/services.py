"""Inbound email: store every message first, then act on it exactly once.

``inbound_receive`` is the one path behind every way in (``receive_email`` on an MTA pipe,
``POST /inbound/email/``, later IMAP). It works in two transactions:

1. ``inbound_store`` commits the raw message under its unique ``message_id`` (the Message-ID,
   or a hash of the message when it has none). A second delivery of the same message finds the
   row and stores nothing.
2. ``inbound_process`` locks the row (``SELECT … FOR UPDATE``) and acts only while it is
   ``pending``, recording the outcome in the same transaction as the ticket or reply it made.

So a message delivered twice, by two paths, or by two workers at the same moment has one
effect; a process that dies between the two steps leaves a pending row, which the next delivery
or the beat sweep (``inbound_process_pending``, for rows pending over a minute) acts on.
"""

import contextvars
import logging
import zlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, connections, transaction
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.roles import staff_tier_level
from core.sweeps import sweep_due_rows
from notifications.services import address_suppress
from sla.models import ServiceCustomer
from tickets import lookups
from tickets.attachments import validate_uploads
from tickets.models import Ticket
from tickets.selectors import (
    ticket_cc_candidates,
    ticket_customer_can_access,
    tickets_for_staff,
)
from tickets.services import (
    customer_add_service,
    follow_up_reference,
    ticket_cc_add,
    ticket_create,
    ticket_reply,
)

from . import bounces, emails, matching
from .models import InboundMessage
from .parsing import (
    Envelope,
    Unreadable,
    dedupe_key,
    header_block,
    parse,
    read_envelope,
    subject_tags,
)

logger = logging.getLogger(__name__)

Outcome = InboundMessage.Outcome

# A stored message is the sweep's once it has been pending this long (its own delivery acts on
# it at once; this is for a process that died between storing and acting).
SWEEP_AFTER = timedelta(minutes=1)
MAX_ATTEMPTS = 5
_CUT_NOTE = "\n\n[The rest of this email was cut: it is longer than a ticket message may be.]"


@dataclass(frozen=True)
class Receipt:
    message: InboundMessage
    duplicate: bool  # the message had been stored before (by this path or another)


def inbound_receive(*, raw, via, size=None):
    """Store ``raw`` (one RFC 5322 message) and act on it; returns a ``Receipt``.

    Raises only when the message could not be stored (the database is down): the caller must
    then report a temporary failure so the sender delivers it again. Once stored, a failure to
    act leaves the row pending for the sweep; it is never raised to the caller.
    """
    message, created = inbound_store(raw=raw, via=via, size=size)
    if message.outcome == Outcome.PENDING:
        try:
            message = inbound_process(inbound_id=message.pk)
        except Exception:
            logger.exception("Inbound message %s stored; acting on it failed", message.pk)
    return Receipt(message=message, duplicate=not created)


def inbound_receive_many(*, messages, via):
    """``inbound_receive`` for a batch of ``(raw, size)``: all stored in one transaction,
    then each pending one acted on in its own (as ``inbound_receive`` does), by up to
    ``INBOUND_ACT_THREADS`` threads at once (``_act_all``). Returns the ``Receipt`` of each,
    in order, once every one of them is committed."""
    # Plan data (service addresses, priorities, SLA policy, tiers) read once per batch.
    with matching.service_addresses_read_once(), lookups.read_once():
        stored = inbound_store_many(messages=messages, via=via)
        acted = _act_all([row for row, _created in stored if row.outcome == Outcome.PENDING])
    return [
        Receipt(message=acted.get(row.pk, row), duplicate=not created) for row, created in stored
    ]


def _act_all(rows):
    """Act on stored pending ``rows``; {pk: row as it ended}.

    On PostgreSQL, outside any transaction, with ``INBOUND_ACT_THREADS`` > 1, the rows are
    split by sender into that many groups, each acted on in a thread of its own (its own
    database connection), so the database works on several messages while Python prepares
    the next. Exactly once still comes from ``inbound_process``'s row lock; one sender's mail
    stays in one thread, in the order received (their replies keep their order, and their
    customer row's lock is never waited for by a sibling thread). Returns when all are done.
    """
    threads = min(settings.INBOUND_ACT_THREADS, len(rows))
    if threads <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return {row.pk: _act_logged(row) for row in rows}
    groups = defaultdict(list)
    for row in rows:
        groups[zlib.crc32(row.sender.encode()) % threads].append(row)
    context = contextvars.copy_context()  # the batch's read-once caches, shared
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        futures = [pool.submit(context.copy().run, _act_group, group) for group in groups.values()]
        acted = {}
        for future in futures:
            acted.update(future.result())
    return acted


def _act_group(rows):
    try:
        return {row.pk: _act_logged(row) for row in rows}
    finally:
        connections.close_all()  # this thread's own connection


def _act_logged(row):
    """``inbound_process``, an unexpected failure logged (the row stays pending for the sweep)."""
    try:
        return inbound_process(inbound_id=row.pk)
    except Exception:
        logger.exception("Inbound message %s stored; acting on it failed", row.pk)
        return row


@transaction.atomic
def inbound_store(*, raw, via, size=None):
    """Record the message (``size``: its full size when ``raw`` is only its start); returns
    (row, created). Over ``INBOUND_EMAIL_MAX_BYTES`` only the header block is kept, and the
    row is refused at once."""
    key, fields = _stored_fields(raw=raw, via=via, size=size, now=timezone.now())
    return InboundMessage.objects.get_or_create(message_id=key, defaults=fields)


@transaction.atomic
def inbound_store_many(*, messages, via):
    """``inbound_store`` for a batch of ``(raw, size)`` in one transaction (IMAP polling):
    one ``INSERT … ON CONFLICT DO NOTHING`` and one read. Returns ``[(row, created)]`` in the
    given order; a key twice in the batch or stored before is ``created=False``."""
    now = timezone.now()
    prepared = [_stored_fields(raw=raw, via=via, size=size, now=now) for raw, size in messages]
    keys = [key for key, _fields in prepared]
    existing = set(
        InboundMessage.objects.filter(message_id__in=keys).values_list("message_id", flat=True)
    )
    new, seen = [], set(existing)
    for key, fields in prepared:
        if key not in seen:
            seen.add(key)
            new.append(InboundMessage(message_id=key, **fields))
    InboundMessage.objects.bulk_create(new, ignore_conflicts=True)
    # Read back without the raw bytes (the caller acts by id; inbound_process reads them).
    rows = {
        row.message_id: row
        for row in InboundMessage.objects.filter(message_id__in=keys).defer("raw")
    }
    created_keys = {row.message_id for row in new}
    result = []
    for key in keys:
        created = key in created_keys
        created_keys.discard(key)  # the second copy of a key in the batch is a duplicate
        result.append((rows[key], created))
    return result


def _stored_fields(*, raw, via, size, now):
    """(exactly-once key, field values) of the row that stores ``raw``."""
    size = len(raw) if size is None else max(size, len(raw))
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    try:
        envelope = read_envelope(raw)
    except Exception:  # the header parser is lenient; this is odd input meeting a bug in it
        envelope = Envelope(message_id="", sender="", recipients=[], subject="")
    fields = {
        "sender": envelope.sender[:320],
        "recipients": ", ".join(envelope.recipients),
        "subject": envelope.subject[:255],
        "via": via,
        "size": size,
        "received_at": now,
    }
    if size > limit:
        fields |= {
            "raw": header_block(raw),
            "raw_complete": False,
            "outcome": Outcome.REFUSED,
            "reason": (
                f"The message is {filesizeformat(size)}; the limit is {filesizeformat(limit)} "
                "(INBOUND_EMAIL_MAX_BYTES). Only its headers were kept."
            ),
            "processed_at": now,
        }
    else:
        fields |= {"raw": raw, "retry_at": now + SWEEP_AFTER}
    return dedupe_key(envelope.message_id, raw), fields


def inbound_process(*, inbound_id, now=None):
    """Act on a stored message, once: under its row lock, and only while it is pending.

    What it did (or why not) is saved on the row with the ticket or reply it made. A refusal
    by the ticket rules (not a customer, over a limit, …) is an outcome; an unexpected error
    rolls the action back, counts an attempt and leaves the row pending for the sweep, until
    ``MAX_ATTEMPTS`` make it a refusal.

    The action runs in the row's own transaction, without a savepoint of its own: when it
    raises, the whole transaction is rolled back (the row lock too) and the refusal or the
    failed attempt is recorded by a second one, which locks the row again and records only
    while it is still pending (``_after_failure``). A savepoint would cost every message two
    statements for the rare one that fails.
    """
    now = now or timezone.now()
    acting = False
    try:
        with transaction.atomic():
            message = InboundMessage.objects.select_for_update().filter(pk=inbound_id).first()
            if message is None or message.outcome != Outcome.PENDING:
                return message
            message.attempts += 1
            acting = True
            outcome, reason, ticket = _act(message, now=now)
            acting = False
            return _record(message, outcome, reason, ticket, now=now)
    except (ValidationError, PermissionDenied) as exc:
        if not acting:
            raise
        return _after_failure(inbound_id, now=now, refusal=_messages(exc))
    except Exception as exc:
        if not acting:
            raise
        logger.exception("Acting on inbound message %s failed", inbound_id)
        return _after_failure(inbound_id, now=now, error=f"{type(exc).__name__}: {exc}"[:500])


def _after_failure(inbound_id, *, now, refusal=None, error=None):
    """Record, in a transaction of its own, that acting on the message was refused
    (``refusal``) or failed (``error``): the row is locked again and changed only while it is
    still pending (another worker may have acted on it meanwhile)."""
    with transaction.atomic():
        message = InboundMessage.objects.select_for_update().filter(pk=inbound_id).first()
        if message is None or message.outcome != Outcome.PENDING:
            return message
        message.attempts += 1
        if refusal is not None:
            return _record(message, Outcome.REFUSED, refusal, None, now=now)
        if message.attempts < MAX_ATTEMPTS:
            message.retry_at = now + SWEEP_AFTER * 2**message.attempts
            message.reason = f"Attempt {message.attempts} failed ({error}); will retry."
            message.save(update_fields=["attempts", "retry_at", "reason"])
            return message
        reason = f"Could not be processed after {message.attempts} attempts: {error}"
        return _record(message, Outcome.REFUSED, reason, None, now=now)


def _record(message, outcome, reason, ticket, *, now):
    message.outcome = outcome
    message.reason = reason[:4000]
    message.ticket = ticket
    message.processed_at = now
    message.retry_at = None
    message.save(
        update_fields=["attempts", "outcome", "reason", "ticket", "processed_at", "retry_at"]
    )
    return message


def inbound_process_pending(*, now=None, batch_size=50):
    """Beat sweep: act on every message left pending past its ``retry_at`` (its process died
    between storing and acting, or acting failed). Safe concurrently: rows are locked with
    ``SKIP LOCKED`` and acted on only while pending. Returns counts per outcome."""
    now = now or timezone.now()

    def handle(rows):
        counts = Counter()
        for row in rows:
            counts[inbound_process(inbound_id=row.pk, now=now).outcome] += 1
        return counts

    return sweep_due_rows(
        InboundMessage.objects.filter(outcome=Outcome.PENDING),
        due_field="retry_at",
        now=now,
        batch_size=batch_size,
        handle=handle,
    )


@transaction.atomic
def inbound_reprocess(*, message):
    """Staff's "process again": a refused (or stuck pending) message is acted on anew.

    Returns the row, or None when it cannot be: it already had an effect, was deliberately
    ignored, or only its headers were kept.
    """
    message = InboundMessage.objects.select_for_update().filter(pk=message.pk).first()
    if message is None or message.outcome not in (Outcome.PENDING, Outcome.REFUSED):
        return None
    if not message.raw_complete:
        return None
    message.outcome = Outcome.PENDING
    message.attempts = 0
    message.reason = ""
    message.retry_at = timezone.now() + SWEEP_AFTER
    message.save(update_fields=["outcome", "attempts", "reason", "retry_at"])
    return inbound_process(inbound_id=message.pk)


def can_open_ticket_from(message):
    """Whether staff may open a ticket from ``message``: it was ignored or refused (an unknown
    sender, say), made no ticket, and is kept whole."""
    return (
        message.outcome in (Outcome.IGNORED, Outcome.REFUSED)
        and message.ticket_id is None
        and message.raw_complete
    )


@transaction.atomic
def inbound_open_ticket(*, message, customer, service, by, grant_access=False):
    """Staff's "open ticket from this message": a ticket for ``customer`` on ``service`` with
    the message's subject, text and attachments, as if the customer had sent it. With
    ``grant_access`` the customer is first given the service (``customer_add_service``);
    without, they must be its customer already. The message records the ticket and who did
    it. Raises ``ValidationError`` saying why not."""
    message = InboundMessage.objects.select_for_update().filter(pk=message.pk).first()
    if message is None or not can_open_ticket_from(message):
        raise ValidationError("This message already had an effect, or only its headers were kept.")
    if not customer.is_active or staff_tier_level(customer) is not None or customer.is_staff:
        raise ValidationError(f"{customer.email} is not an active customer account.")
    if grant_access:
        customer_add_service(customer=customer, service=service)
    elif not ServiceCustomer.objects.filter(service=service, customer=customer).exists():
        raise ValidationError(
            f"{customer.email} is not a customer of {service}: tick “give access” to add them."
        )
    try:
        mail = parse(bytes(message.raw), max_text_chars=settings.TICKET_TEXT_MAX_BYTES)
    except Unreadable as exc:
        raise ValidationError(f"Unreadable: {exc}.") from None
    ticket, notes = _open_ticket(mail, customer, service)
    before = message.reason
    message.outcome = Outcome.TICKET_OPENED
    message.ticket = ticket
    message.reason = (
        f"Opened {ticket.number} for {customer.email} on {service} by {by.email} from admin."
        f"{notes} (Before: {before})"
    )[:4000]
    message.processed_at = timezone.now()
    message.retry_at = None
    message.save(update_fields=["outcome", "ticket", "reason", "processed_at", "retry_at"])
    return ticket


# --- deciding and acting ---------------------------------------------------------------------


def _act(message, *, now):
    """(outcome, reason, ticket) for one pending message; writes the ticket or reply."""
    if not message.raw_complete:
        return Outcome.REFUSED, "Only the headers of this message were kept.", None
    try:
        mail = parse(bytes(message.raw), max_text_chars=settings.TICKET_TEXT_MAX_BYTES)
    except Unreadable as exc:
        return Outcome.REFUSED, f"Unreadable: {exc}.", None
    if mail.noise:
        return Outcome.IGNORED, f"Not acted on: {mail.noise}.{_bounce(message)}", None
    if not mail.sender:
        return Outcome.REFUSED, "The message has no sender address (From).", None
    if matching.is_our_address(mail.sender):
        return Outcome.IGNORED, f"Mail from our own address {mail.sender} (a loop).", None
    user = matching.sender_user(mail.sender)
    ticket, how = matching.reply_target(mail, user)
    if ticket is not None:
        return _reply(mail, user, ticket, how, now=now)
    service = matching.service_for(mail.recipients)
    if service is None:
        return (
            Outcome.IGNORED,
            "Not addressed to a service's address, and not a reply to a ticket email.",
            None,
        )
    if user is None:
        return _unknown_sender(mail, service, now=now)
    try:
        # ticket_create checks that the sender is a customer of the service (one query, not
        # one here and one there); not one: the unknown-sender answer, nothing written.
        ticket, notes = _open_ticket(mail, user, service)
    except ValidationError as exc:
        if _no_access(exc):
            return _unknown_sender(mail, service, now=now)
        raise
    return Outcome.TICKET_OPENED, f"Opened {ticket.number} for {service}.{notes}", ticket


def _no_access(exc):
    """Whether ``ticket_create`` refused because the sender is not a customer of the service."""
    errors = getattr(exc, "error_dict", {}).get("service", [])
    return any(error.code == "no_access" for error in errors)


def _bounce(message):
    """For a delivery report of one of our ticket emails: mark each address that failed for
    good as bouncing (the outbox stops sending to it); a note for the reason, or ""."""
    try:
        bounce = bounces.permanent_failures(bytes(message.raw))
    except Exception:  # a report too broken to read is still only ignored
        logger.warning("Could not read delivery report %s", message.pk, exc_info=True)
        return ""
    if bounce is None:
        return ""
    ticket = Ticket.objects.filter(pk=bounce.ticket_pk).first()
    if ticket is None:
        return ""
    ours = {ticket.customer.email.lower()}
    ours |= {email.lower() for email in ticket.ccs.values_list("user__email", flat=True)}
    marked = []
    for address, status in bounce.recipients:
        if address not in ours:
            continue  # we never sent this ticket's mail there: a forged or confused report
        address_suppress(
            address=address,
            reason=f"Delivery report for {ticket.number} (inbound message {message.pk}): {status}",
        )
        marked.append(address)
    if not marked:
        return ""
    return f" Delivery failed for good: {', '.join(marked)} marked bouncing (no more email)."


def _reply(mail, user, ticket, how, *, now):
    """A reply matched to ``ticket``. Who may write, as in the portal: staff who may work it
    (a public staff reply), its customer, and the people its customer may share it with —
    its CCs and, when their organisation shares tickets, colleagues
    (``ticket_customer_can_access``).
    Anyone else: the polite auto-answer. A resolved ticket reopens (``ticket_reply``); a
    closed one is continued by a linked follow-up of its customer's (``_closed``)."""
    is_staff = user is not None and staff_tier_level(user) is not None
    if is_staff:
        if not tickets_for_staff(user=user).filter(pk=ticket.pk).exists():
            return (
                Outcome.REFUSED,
                f"{mail.sender} is staff but cannot see {ticket.number} (tier or service).",
                None,
            )
    elif user is None or not ticket_customer_can_access(user=user, ticket=ticket):
        return _unknown_sender(mail, ticket.service, now=now, ticket=ticket)
    elif ticket.status == Ticket.Status.CLOSED:
        return _closed(mail, user, ticket, how, now=now)
    # The sender's row and the ticket were locked by matching: ticket_reply takes neither again.
    return _add_reply(mail, user, ticket, how, is_staff=is_staff, locked=True)


def _add_reply(mail, user, ticket, how, *, is_staff, note="", locked=False):
    uploads, notes = _uploads(mail.attachments)
    body = mail.text or ("(The email had no text; see its attachments.)" if uploads else "")
    if not body:
        return Outcome.IGNORED, f"Reply to {ticket.number} with no text.{note}", ticket
    reopens = not is_staff and ticket.status == Ticket.Status.RESOLVED
    ticket_reply(
        ticket=ticket,
        author=user,
        body=_fit(body + _note(notes)),
        attachments=uploads,
        locked=locked,
    )
    if is_staff:
        who = "staff"
    elif user.pk == ticket.customer_id:
        who = "customer"
    else:
        who = f"customer (CC or colleague of {ticket.customer.email})"
    return (
        Outcome.REPLY_ADDED,
        f"Added to {ticket.number} as a public {who} reply (matched by {how})."
        f"{' It was resolved: reopened.' if reopens else ''}{note}{_note(notes)}",
        ticket,
    )


def _closed(mail, user, ticket, how, *, now):
    """A customer's reply to a closed ticket, within ``TICKET_REOPEN_DAYS`` or not: an email is
    not the deliberate "Reopen" of the ticket page, so it never reopens; it is continued by a
    follow-up linked to it (``follow_up_of``), as the page offers once the window has passed.
    A follow-up of it still open takes the reply instead of a second one. Only the ticket's
    own customer may open a follow-up (as in the portal): a CC or colleague gets an answer
    saying so, and nothing is written."""
    if user.pk != ticket.customer_id:
        sent = emails.unknown_sender_answer(
            to=mail.sender,
            service=ticket.service,
            subject=mail.subject,
            message_id=mail.message_id,
            today=now.date(),
            ticket=ticket,
            closed=True,
            now=now,
        )
        return (
            Outcome.IGNORED,
            f"Reply to closed {ticket.number} (matched by {how}) from {mail.sender}, who is "
            "not its customer: only its customer may reopen it or open a follow-up; "
            f"{_answer_note(sent, ticket.service)}.",
            None,
        )
    follow_up = (
        ticket.follow_ups.filter(customer=user).exclude(status=Ticket.Status.CLOSED).order_by("-pk")
    ).first()
    if follow_up is not None:
        return _add_reply(
            mail,
            user,
            follow_up,
            how,
            is_staff=False,
            note=f" (The reply was to closed {ticket.number}; {follow_up.number} is its open "
            "follow-up.)",
        )
    follow_up, notes = _open_ticket(mail, user, ticket.service, follows=ticket)
    return (
        Outcome.TICKET_OPENED,
        f"Reply to closed {ticket.number} (matched by {how}): opened {follow_up.number} "
        f"as its follow-up.{notes}",
        follow_up,
    )


def _open_ticket(mail, user, service, follows=None):
    priority, subject = _priority_and_subject(service, mail.subject)
    uploads, notes = _uploads(mail.attachments)
    text = mail.text or ("(The email had no text; see its attachments.)" if uploads else "")
    if not text:
        text = "(The email had no text.)"
    if follows is not None:
        # Written here (ticket_create would add it) so that the whole text is fitted.
        text = f"{follow_up_reference(follows)}\n\n{text}"
    ticket = ticket_create(
        customer=user,
        service=service,
        priority=priority,
        subject=subject or "(no subject)",
        description=_fit(text + _note(notes)),
        attachments=uploads,
        follow_up_of=follows,
        # The confirmation answers the customer's email: their client shows it in that thread.
        answers=mail.message_id,
    )
    if follows is None:
        _copy_colleagues(mail, ticket)
    return ticket, _note(notes)


def _copy_colleagues(mail, ticket):
    """Colleagues the customer put on To or Cc of the email that opened the ticket become its
    CCs, as if the customer had CC'd them on the ticket page (``ticket_cc_add``: only active
    colleagues of the customer's organisation). Anyone else copied is not: their replies get
    the auto-answer."""
    # Without a query in the usual case (only the service's address on To): the service's
    # own addresses and ours are left out by name; whatever else is there is looked up once.
    service = ticket.service
    ours = {a.strip().lower() for a in [service.contact, *(service.inbound or [])] if a}
    ours.add(matching.own_address())
    others = [
        a
        for a in mail.copied
        if a != mail.sender and a not in ours and matching.without_tag(a) not in ours
    ]
    if not others:
        return
    candidates = ticket_cc_candidates(ticket=ticket).annotate(address=Lower("email"))
    for colleague in candidates.filter(address__in=others):
        ticket_cc_add(ticket=ticket, user=colleague, by=ticket.customer)


def _unknown_sender(mail, service, *, now, ticket=None):
    sent = emails.unknown_sender_answer(
        to=mail.sender,
        service=service,
        subject=mail.subject,
        message_id=mail.message_id,
        today=now.date(),
        ticket=ticket,
        now=now,
    )
    what = f"a reply to {ticket.number}" if ticket is not None else f"mail to {service}"
    return (
        Outcome.IGNORED,
        f"{mail.sender} may not send {what} (no customer account of it); "
        f"{_answer_note(sent, service)}.",
        None,
    )


def _answer_note(sent, service):
    return {
        emails.SENT: "an auto-answer was sent",
        emails.ANSWERED_TODAY: "already auto-answered today",
        emails.HOURLY_CAP: (
            f"no auto-answer: {service} sent {settings.INBOUND_AUTO_ANSWERS_PER_HOUR} this hour "
            "(INBOUND_AUTO_ANSWERS_PER_HOUR)"
        ),
    }[sent]


def _priority_and_subject(service, subject):
    """A ``[P1]``-style tag naming one of the service's priorities, or its least urgent one;
    the tag is taken out of the subject."""
    priorities = lookups.once(
        ("inbound.priorities", service.pk),
        lambda: list(
            service.priorities.filter(retired_at__isnull=True)
            .select_related("calendar")
            .order_by("position")
        ),
    )
    if not priorities:
        raise ValidationError(f"{service} has no priority to file a ticket with.")
    by_code = {priority.code.lower(): priority for priority in priorities}
    for tag in subject_tags(subject):
        if tag.lower() in by_code:
            subject = " ".join(subject.replace(f"[{tag}]", " ", 1).split())
            return by_code[tag.lower()], subject
    return priorities[-1], subject


def _uploads(attachments):
    """The attachments the upload rules accept, and a note for each one they refuse (the
    others still go on the ticket: a bad file must not cost the customer their message)."""
    accepted, notes = [], []
    for name, data in attachments:
        if len(accepted) >= settings.ATTACHMENT_MAX_FILES:
            notes.append(f"{name}: at most {settings.ATTACHMENT_MAX_FILES} files are attached.")
            continue
        upload = ContentFile(data, name=name)
        try:
            validate_uploads([upload])
        except ValidationError as exc:
            notes.append(" ".join(exc.messages))
            continue
        accepted.append(upload)
    return accepted, notes


def _note(notes):
    if not notes:
        return ""
    return "\n\n[Not attached: " + " ".join(notes) + "]"


def _fit(text):
    """Cut ``text`` to the ticket text limit (``TICKET_TEXT_MAX_BYTES``), saying so."""
    limit = settings.TICKET_TEXT_MAX_BYTES
    if len(text.encode("utf-8")) <= limit:
        return text
    room = limit - len(_CUT_NOTE.encode("utf-8"))
    cut = text.encode("utf-8")[: max(room, 0)].decode("utf-8", "ignore")
    return cut + _CUT_NOTE


def _messages(exc):
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or type(exc).__name__
