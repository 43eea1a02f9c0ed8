"""Escalation: the sweep that warns and escalates lapsed tickets, and manual escalation.

Exactly once, by construction (STYLE.md rules 4 and 5):

1. The sweep reads due tickets through the partial index on ``next_sla_check_at``, a batch at
   a time, ``FOR UPDATE SKIP LOCKED`` (``core.sweeps.sweep_due_rows``): two workers
   never hold the same ticket, and neither waits for the other. It reads only the columns it
   uses (``_SweptTicket``), and a sweep with nothing due is one index probe (``_anything_due``).
2. For each ticket it lists the steps that have fallen due (``timers.due_steps``: warn before
   breach, management roles in order) and records them all in one ``INSERT … ON CONFLICT DO
   NOTHING RETURNING``. Only the rows that statement actually inserted are acted on: a step
   that an earlier sweep (or a racing one) recorded is skipped, whatever either one believed.
3. The actions of a batch are bulk writes in the same transaction (one ``UPDATE`` of the
   tickets, one ``INSERT`` of the events, the emails via ``notifications_insert_many``;
   on PostgreSQL with their values bound as arrays, ``execute_bound``, and the emails' bodies
   and headers built by the database, ``emails.SlaOutboxRows``), so a worker that dies
   half-way leaves nothing half-done: the transaction rolls back, steps and all, and the next
   sweep does the batch again. The number of queries per batch is fixed; it does not grow
   with the number of tickets in the batch or in the table.

Manual escalation by staff goes through the same ``_Batch.escalate`` (with a ``manual`` step row
recording who and why) so it resets the new tier's pickup and the next check the same way.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from operator import itemgetter

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from core.sql import execute_bound
from core.sweeps import sweep_due_rows
from notifications.services import notifications_create_many, notifications_insert_many
from sla.calendars import business_calendars
from sla.models import Priority, Service
from sla.selectors import Rosters

from . import emails, timers
from .models import Ticket, TicketEvent, TicketSlaStep
from .paging_events import SweepPages

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
_UPDATED = ["tier", "tier_entered_at", "pickup_due_at", "updated_at", "next_due_at"]


def escalate_lapsed_tickets(*, now=None, batch_size=BATCH_SIZE):
    """Do every SLA step that has fallen due by ``now``; returns counts of what was done."""
    now = now or timezone.now()
    if not _anything_due(now):
        return {}
    # Plan data (tiers, policies, rosters, calendars, priorities, services) read once per
    # sweep for the services its batches meet, not once per batch: one ``now`` for them all.
    plans = _Plans(now)
    totals = sweep_due_rows(
        Ticket.objects.values_list(*_COLUMNS),
        due_field="next_sla_check_at",
        now=now,
        batch_size=batch_size,
        handle=lambda rows: _sweep_batch(plans.tickets(rows), now, plans),
        pk=itemgetter(0),
        # Through ``ticket_sla_check`` (on ``next_sla_check_at`` alone) without sorting the
        # tickets due at one instant by id for every batch.
        ties_by_id=False,
    )
    if totals:
        logger.info("SLA sweep: %s", dict(totals))
    return dict(totals)


def _anything_due(now):
    """Whether any ticket is due: one probe of the partial index on ``next_sla_check_at``,
    without a transaction, so a sweep with nothing to do costs one short query."""
    table = connection.ops.quote_name(Ticket._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE next_sla_check_at <= %s LIMIT 1",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(now)],
        )
        return cursor.fetchone() is not None


# The columns of a ticket the sweep reads (``_SweptTicket``): no model instances, and only the
# deadlines the steps are decided from (not every datetime of the row).
_COLUMNS = (
    "id",
    "service_id",
    "priority_id",
    "customer__email",
    "assignee_id",
    "assignee__username",
    "assignee__email",
    "assignee__is_active",
    "tier",
    "status",
    "subject",
    "description",
    "response_due_at",
    "response_warn_at",
    "resolution_due_at",
    "resolution_warn_at",
    "paused_at",
    "pickup_due_at",
    "tier_entered_at",
)
_STATUSES = {status.value: status for status in Ticket.Status}


class _Person:
    """A ticket's customer or assignee, as far as the sweep uses them."""

    __slots__ = ("pk", "username", "email", "is_active")

    def __init__(self, pk, username, email, is_active):
        self.pk, self.username, self.email, self.is_active = pk, username, email, is_active

    def get_username(self):
        return self.username


class _SweptTicket:
    """The columns of a due ticket that the sweep reads and writes, with its (shared) priority
    and service: what ``timers``, ``emails`` and ``paging_events`` use of a ``Ticket``.
    ``updated_at`` is None unless the sweep moved the ticket (``_update_tickets`` keeps the
    stored one then)."""

    __slots__ = (
        "id",
        "service_id",
        "service",
        "priority_id",
        "priority",
        "customer",
        "assignee_id",
        "assignee",
        "tier",
        "status",
        "subject",
        "description",
        "response_due_at",
        "response_warn_at",
        "resolution_due_at",
        "resolution_warn_at",
        "paused_at",
        "pickup_due_at",
        "tier_entered_at",
        "updated_at",
        "next_due_at",
        "next_sla_check_at",
    )

    def __init__(self, row, priorities, services):
        (
            self.id,
            self.service_id,
            self.priority_id,
            customer,
            self.assignee_id,
            username,
            email,
            is_active,
            self.tier,
            status,
            self.subject,
            self.description,
            self.response_due_at,
            self.response_warn_at,
            self.resolution_due_at,
            self.resolution_warn_at,
            self.paused_at,
            self.pickup_due_at,
            self.tier_entered_at,
        ) = row
        self.status = _STATUSES.get(status, status)
        self.priority = priorities[self.priority_id]
        self.service = services[self.service_id]
        self.customer = _Person(None, "", customer, True)
        self.assignee = (
            None
            if self.assignee_id is None
            else _Person(self.assignee_id, username, email, is_active)
        )
        self.updated_at = self.next_due_at = self.next_sla_check_at = None

    @property
    def pk(self):
        return self.id

    @property
    def number(self):
        return f"#{self.id}"


class _Plans:
    """What the batches of one sweep share, read as the batches first need it."""

    def __init__(self, now):
        self.now = now
        self.rosters = None
        self.service_ids = frozenset()
        self.calendars = {}
        self.priorities = {}
        self.services = {}

    def tickets(self, rows):
        missing = {row[2] for row in rows} - self.priorities.keys()
        if missing:
            self.priorities.update(Priority.objects.in_bulk(missing))
        missing = {row[1] for row in rows} - self.services.keys()
        if missing:
            self.services.update(Service.objects.in_bulk(missing))
        return [_SweptTicket(row, self.priorities, self.services) for row in rows]

    def rosters_for(self, service_ids):
        if self.rosters is None or not service_ids <= self.service_ids:
            self.service_ids = self.service_ids | service_ids
            self.rosters = Rosters(self.service_ids, at=self.now, management=True)
        return self.rosters

    def calendars_for(self, calendar_ids):
        missing = set(calendar_ids) - self.calendars.keys()
        if missing:
            self.calendars.update(business_calendars(missing))
        return self.calendars


def escalate_manually(ticket, *, by, reason, now):
    """Staff escalate ``ticket`` (locked by the caller) to the next tier, saying why."""
    # Two escalations at one instant (two staff clicking together) asked for one move, and the
    # step row (unique per ticket and instant) can hold only one: the ticket is locked, so the
    # second finds the first's row and is refused, rather than hitting the unique constraint.
    done = (
        TicketSlaStep.objects.filter(
            ticket=ticket,
            timer=TicketSlaStep.Timer.MANUAL,
            due_at=now,
            step=TicketSlaStep.Step.ESCALATED,
        )
        .select_related("actor")
        .first()
    )
    if done is not None:
        who = done.actor.get_full_name() or done.actor.email if done.actor else "the system"
        raise ValidationError(
            f"{ticket.number} was escalated to Tier {ticket.tier} by {who} at this same moment; "
            "it was not escalated again."
        )
    batch = _Batch([ticket], now)
    if ticket.tier >= batch.rosters.top_tier(ticket.service_id):
        raise ValidationError(f"{ticket.number} is already at the top tier.")
    step = TicketSlaStep.objects.create(
        ticket=ticket,
        timer=TicketSlaStep.Timer.MANUAL,
        due_at=now,
        step=TicketSlaStep.Step.ESCALATED,
        at=now,
        actor=by,
        detail=reason[:300],
    )
    event = batch.escalate(ticket, actor=by, reason=reason, key=f"sla-step:{step.pk}")
    timers.update_next(ticket, batch.ctx(ticket), after=None)
    ticket.save(update_fields=[*_UPDATED, "assignee", "next_sla_check_at"])
    batch.flush()
    return event


class _Batch:
    """What acting on a batch of tickets needs, loaded once, and the writes it collects."""

    def __init__(self, tickets, now, plans=None):
        self.now = now
        # ``plans``: the sweep's, shared by its batches; events kept as rows, not models.
        self.fast = plans is not None
        service_ids = frozenset(t.service_id for t in tickets)
        if plans is None:
            self.rosters = Rosters(service_ids, at=now, management=True)
        else:
            self.rosters = plans.rosters_for(service_ids)
        calendar_ids = {t.priority.calendar_id for t in tickets}
        calendar_ids |= {tier.calendar_id for tier in self.rosters.tiers.values()}
        if plans is None:
            self.calendars = business_calendars(calendar_ids)
        else:
            self.calendars = plans.calendars_for(calendar_ids)
        self.contexts = {}
        self.addresses = {}  # (service, tier): who a tier's emails go to, once per batch
        self.events = []
        self.emails = []
        self.stamps = {}  # each SLA email template rendered once per batch (tickets/emails.py)
        # The sweep's emails on PostgreSQL: built by the database, in one statement a batch.
        self.rows = (
            emails.SlaOutboxRows() if self.fast and connection.vendor == "postgresql" else None
        )
        self.counts = Counter()
        # Tickets whose assignee an escalation handed over (the sweep unassigns them at once).
        self.handed_over = []
        self.pages = SweepPages(now, self.rosters)  # ticket.escalated, sla.* (paging_events)

    def ctx(self, ticket):
        key = (ticket.priority.calendar_id, ticket.service_id)
        context = self.contexts.get(key)
        if context is None:
            context = self.contexts[key] = timers.Context(
                self.calendars[key[0]], self.rosters.policy(ticket.service_id)
            )
        return context

    def tier_addresses(self, ticket):
        key = (ticket.service_id, ticket.tier)
        addresses = self.addresses.get(key)
        if addresses is None:
            people = self.rosters.recipients(*key)
            addresses = self.addresses[key] = [user.email for user in people]
        return addresses

    def event(self, ticket, kind, summary, data, actor=None):
        if self.fast:
            actor_id = None if actor is None else actor.pk
            self.events.append((ticket.pk, actor_id, str(kind), summary[:300], data, self.now))
            return None
        event = TicketEvent(
            ticket=ticket,
            actor=actor,
            kind=kind,
            summary=summary[:300],
            data=data,
            created_at=self.now,
        )
        self.events.append(event)
        return event

    def escalate(self, ticket, *, actor, reason, key):
        """Move the ticket up a tier (or, at the top, record the breach) and tell the tier."""
        previous = ticket.tier
        escalated = previous < self.rosters.top_tier(ticket.service_id)
        handed_over = None
        if escalated:
            ticket.tier = previous + 1
            # The hand-over: the ticket enters the new tier unassigned, so that tier's pickup
            # timer runs and its queue ("unassigned in my tier") shows it. The previous
            # assignee keeps read access (tickets_worked_by) and is named in the event.
            if ticket.assignee_id is not None:
                handed_over = ticket.assignee
                ticket.assignee = None
                self.handed_over.append(ticket.pk)
            ticket.tier_entered_at = self.now
            ticket.pickup_due_at = timers.pickup_due(
                self.rosters.tier(ticket.service_id, ticket.tier), self.now, self.calendars
            )
            ticket.updated_at = self.now
            summary = f"Escalated from Tier {previous} to Tier {ticket.tier}"
            self.counts["escalated"] += 1
        else:
            summary = f"Service level breached at the top tier (Tier {previous})"
            self.counts["breached_at_top"] += 1
        if reason:
            summary = f"{summary}: {reason}"
        data = {"from": previous, "to": ticket.tier, "reason": reason, "automatic": actor is None}
        if handed_over is not None:
            summary = (
                f"{summary} (unassigned from {handed_over.get_username()}; "
                f"Tier {ticket.tier} picks it up)"
            )
            data["unassigned"] = {"id": handed_over.pk, "username": handed_over.get_username()}
        self.pages.escalated(ticket, key=key, escalated=escalated, summary=summary)
        event = self.event(
            ticket,
            TicketEvent.Kind.ESCALATED if escalated else TicketEvent.Kind.SLA,
            summary,
            data,
            actor=actor,
        )
        self.emails += emails.sla_escalated(
            ticket,
            key=key,
            from_tier=previous,
            reason=reason,
            actor=actor,
            escalated=escalated,
            recipients=self.tier_addresses(ticket),
            stamps=self.stamps,
            rows=self.rows,
        )
        return event

    def act(self, ticket, step, step_id):
        key = f"sla-step:{step_id}"
        name = emails.TIMER_LABELS[step.timer]
        due = f"{step.due_at:%Y-%m-%d %H:%M} UTC"
        data = {"timer": step.timer, "step": step.step, "due_at": step.due_at.isoformat()}
        if step.step == "warned":
            assignee = ticket.assignee
            if assignee is not None and assignee.is_active and assignee.email:
                recipients = [assignee.email]
            else:
                recipients = self.tier_addresses(ticket)
            self.event(ticket, TicketEvent.Kind.SLA, f"At risk: {name} due {due}", data)
            self.pages.sla_step(ticket, "sla.warned", key=key, summary=f"{name} due {due}")
            self.emails += emails.sla_at_risk(
                ticket,
                key=key,
                timer=step.timer,
                due_at=step.due_at,
                now=self.now,
                recipients=recipients,
                stamps=self.stamps,
                rows=self.rows,
            )
            self.counts["warned"] += 1
        elif step.step == "breached":
            if step.timer == "pickup":
                reason = f"not picked up by Tier {ticket.tier} by {due}"
            else:
                reason = f"{name} deadline {due} lapsed"
            self.pages.sla_step(ticket, "sla.breached", key=key, summary=reason)
            self.escalate(ticket, actor=None, reason=reason, key=key)
        else:
            policy = self.rosters.policy(ticket.service_id)
            role = timers.management_role(policy, step.step)
            recipients = self.rosters.management(ticket.service_id, role)
            told = ", ".join(recipients) if recipients else "nobody holds this role"
            self.event(
                ticket,
                TicketEvent.Kind.SLA,
                f"Resolution overdue: {role} notified ({told})",
                {**data, "role": role, "to": recipients},
            )
            self.emails += emails.sla_management(
                ticket,
                key=key,
                role=role,
                due_at=step.due_at,
                recipients=recipients,
                stamps=self.stamps,
                rows=self.rows,
            )
            self.counts["management"] += 1

    def flush(self):
        """Write the batch's events and emails; the sweep's (``fast``: it needs no event ids
        back) as one array-bound ``INSERT`` each on PostgreSQL (``_insert_events``)."""
        self.pages.flush()
        if self.events and self.fast:
            if connection.vendor == "postgresql":
                _insert_events(self.events)
            else:
                TicketEvent.objects.bulk_create(
                    TicketEvent(
                        ticket_id=ticket_id,
                        actor_id=actor_id,
                        kind=kind,
                        summary=summary,
                        data=data,
                        created_at=created_at,
                    )
                    for ticket_id, actor_id, kind, summary, data, created_at in self.events
                )
        elif self.events:
            TicketEvent.objects.bulk_create(self.events)
        if self.rows is not None:
            self.counts["emails"] += self.rows.insert()
        if self.emails:
            if self.fast:
                notifications_insert_many(emails=self.emails)
            else:
                notifications_create_many(emails=self.emails, batch_size=10_000)
            self.counts["emails"] += len(self.emails)


def _sweep_batch(tickets, now, plans):
    batch = _Batch(tickets, now, plans)
    due = {ticket.pk: timers.due_steps(ticket, batch.ctx(ticket), until=now) for ticket in tickets}
    inserted = _record_steps(
        [(ticket.pk, step) for ticket in tickets for step in due[ticket.pk]], now=now
    )
    for ticket in tickets:
        for step in due[ticket.pk]:
            step_id = inserted.get((ticket.pk, step.timer, step.step))
            if step_id is not None:
                batch.act(ticket, step, step_id)
        timers.update_next(ticket, batch.ctx(ticket), after=now)
    _update_tickets(tickets)
    if batch.handed_over:
        # Only when an escalated ticket had an assignee: a batch of unassigned tickets costs
        # no extra query.
        Ticket.objects.filter(pk__in=batch.handed_over).update(assignee=None)
    batch.flush()
    batch.counts["tickets"] += len(tickets)
    batch.counts["batches"] += 1
    return batch.counts


def _update_tickets(tickets):
    """Write the sweep's columns of every ticket of the batch in one ``UPDATE … FROM VALUES``.

    ``bulk_update`` builds a ``CASE WHEN`` per field and row, which costs more Python time than
    the whole rest of a 500-ticket batch.
    """
    fields = ["id", *_UPDATED, "next_sla_check_at"]
    table = connection.ops.quote_name(Ticket._meta.db_table)
    if connection.vendor == "postgresql":
        # The same UPDATE, its values as binary arrays (``core.sql.execute_bound``).
        casts = ["bigint", "smallint"] + ["timestamptz"] * (len(fields) - 2)
        arrays = ", ".join(f"%b::{cast}[]" for cast in casts)
        assignments = ", ".join(_assignment(table, name) for name in fields[1:])
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) "  # noqa: S608
            f"AS v({', '.join(fields)}) WHERE {table}.id = v.id"
        )
        execute_bound(sql, [[getattr(t, name) for t in tickets] for name in ["pk", *fields[1:]]])
        return
    adapt = connection.ops.adapt_datetimefield_value
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = []
    for ticket in tickets:
        params += [ticket.pk, ticket.tier]
        params += [adapt(getattr(ticket, name)) for name in fields[2:]]
    assignments = ", ".join(_assignment(table, name) for name in fields[1:])
    values = ", ".join([row] * len(tickets))
    sql = (
        f"WITH v({', '.join(fields)}) AS (VALUES {values}) "  # noqa: S608 (names from the model)
        f"UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _assignment(table, name):
    # The sweep reads no ``updated_at``: None where it did not move the ticket.
    if name == "updated_at":
        return f"{name} = coalesce(v.{name}, {table}.{name})"
    return f"{name} = v.{name}"


def _record_steps(rows, *, now, chunk=2000):
    """Insert step rows, skipping those already recorded; ``{(ticket, timer, step): id}`` of
    the rows this call inserted (within one ticket's steps (timer, step) is unique)."""
    inserted = {}
    if not rows:
        return inserted
    table = connection.ops.quote_name(TicketSlaStep._meta.db_table)
    if connection.vendor == "postgresql":
        # The same INSERT, its values as binary arrays (``execute_bound``), in one statement.
        sql = (
            f"INSERT INTO {table} (ticket_id, timer, due_at, step, at, detail, created_at) "  # noqa: S608
            "SELECT t, ti, d, s, a, '', %b FROM unnest(%b::bigint[], %b::text[], "
            "%b::timestamptz[], %b::text[], %b::timestamptz[]) AS r(t, ti, d, s, a) "
            "ON CONFLICT (ticket_id, timer, due_at, step) DO NOTHING "
            "RETURNING id, ticket_id, timer, step"
        )
        params = [
            now,
            [ticket_id for ticket_id, _ in rows],
            [str(step.timer) for _, step in rows],
            [step.due_at for _, step in rows],
            [str(step.step) for _, step in rows],
            [step.at for _, step in rows],
        ]
        for step_id, ticket_id, timer, step in execute_bound(sql, params, fetch=True):
            inserted[(ticket_id, timer, step)] = step_id
        return inserted
    adapt = connection.ops.adapt_datetimefield_value
    created = adapt(now)
    for offset in range(0, len(rows), chunk):
        part = rows[offset : offset + chunk]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(part))
        params = []
        for ticket_id, step in part:
            params += [
                ticket_id,
                step.timer,
                adapt(step.due_at),
                step.step,
                adapt(step.at),
                "",
                created,
            ]
        with connection.cursor() as cursor:
            # Only the table name (from the model) and placeholders are formatted in; the
            # values are parameters.
            sql = (
                f"INSERT INTO {table} (ticket_id, timer, due_at, step, at, detail, created_at) "  # noqa: S608
                f"VALUES {values} ON CONFLICT (ticket_id, timer, due_at, step) DO NOTHING "
                "RETURNING id, ticket_id, timer, step"
            )
            cursor.execute(sql, params)
            for step_id, ticket_id, timer, step in cursor.fetchall():
                inserted[(ticket_id, timer, step)] = step_id
    return inserted


def _insert_events(events):
    """``bulk_create`` of the sweep's events (``(ticket_id, actor_id, kind, summary, data,
    created_at)`` rows) in one statement, the columns bound server-side
    as binary arrays: model instances and client-side quoting of 500 rows cost more Python
    time than PostgreSQL spends writing them. No ids come back (the sweep needs none)."""
    table = connection.ops.quote_name(TicketEvent._meta.db_table)
    sql = (
        f"INSERT INTO {table} (ticket_id, actor_id, kind, summary, data, created_at) "  # noqa: S608
        "SELECT t, a, k, s, d::jsonb, c FROM unnest(%b::bigint[], %b::bigint[], %b::text[], "
        "%b::text[], %b::text[], %b::timestamptz[]) AS r(t, a, k, s, d, c)"
    )
    ticket_ids, actor_ids, kinds, summaries, data, created = zip(*events, strict=True)
    dumps = json.dumps
    params = [
        list(ticket_ids),
        list(actor_ids),
        list(kinds),
        list(summaries),
        [dumps(value) for value in data],
        list(created),
    ]
    execute_bound(sql, params)
