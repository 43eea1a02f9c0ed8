"""Escalation: the sweep that warns and escalates lapsed tickets, and manual escalation.

Exactly once, by construction (STYLE.md rules 4 and 5):

1. The sweep reads due tickets through the partial index on ``next_sla_check_at``, a batch at
   a time, ``FOR UPDATE SKIP LOCKED`` (``core.sweeps.sweep_due_rows``): two workers
   never hold the same ticket, and neither waits for the other.
2. For each ticket it lists the steps that have fallen due (``timers.due_steps``: warn before
   breach, management roles in order) and records them all in one ``INSERT … ON CONFLICT DO
   NOTHING RETURNING``. Only the rows that statement actually inserted are acted on: a step
   that an earlier sweep (or a racing one) recorded is skipped, whatever either one believed.
3. The actions of a batch are bulk writes in the same transaction (one ``UPDATE`` of the
   tickets, one ``INSERT`` of the events, the emails via ``notifications_insert_many``;
   on PostgreSQL with their values bound as arrays, ``execute_bound``), so a worker that dies
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

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from core.sql import execute_bound
from core.sweeps import sweep_due_rows
from notifications.services import notifications_create_many, notifications_insert_many
from sla.calendars import business_calendars
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
    totals = sweep_due_rows(
        Ticket.objects.select_related("service", "priority", "assignee", "customer"),
        due_field="next_sla_check_at",
        now=now,
        batch_size=batch_size,
        handle=lambda tickets: _sweep_batch(tickets, now),
    )
    if totals:
        logger.info("SLA sweep: %s", dict(totals))
    return dict(totals)


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

    def __init__(self, tickets, now):
        self.now = now
        self.rosters = Rosters({t.service_id for t in tickets}, at=now, management=True)
        calendar_ids = {t.priority.calendar_id for t in tickets}
        calendar_ids |= {tier.calendar_id for tier in self.rosters.tiers.values()}
        self.calendars = business_calendars(calendar_ids)
        self.events = []
        self.emails = []
        self.stamps = {}  # each SLA email template rendered once per batch (tickets/emails.py)
        self.counts = Counter()
        # Tickets whose assignee an escalation handed over (the sweep unassigns them at once).
        self.handed_over = []
        self.pages = SweepPages(now, self.rosters)  # ticket.escalated, sla.* (paging_events)

    def ctx(self, ticket):
        return timers.Context(
            self.calendars[ticket.priority.calendar_id], self.rosters.policy(ticket.service_id)
        )

    def tier_addresses(self, ticket):
        return [user.email for user in self.rosters.recipients(ticket.service_id, ticket.tier)]

    def event(self, ticket, kind, summary, data, actor=None):
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
            )
            self.counts["management"] += 1

    def flush(self, *, fast=False):
        """Write the batch's events and emails; ``fast`` (the sweep, which needs no event ids
        back) as one array-bound ``INSERT`` each on PostgreSQL (``_insert_events``)."""
        self.pages.flush()
        if self.events:
            if fast and connection.vendor == "postgresql":
                _insert_events(self.events)
            else:
                TicketEvent.objects.bulk_create(self.events)
        if self.emails:
            if fast:
                notifications_insert_many(emails=self.emails)
            else:
                notifications_create_many(emails=self.emails, batch_size=10_000)
            self.counts["emails"] += len(self.emails)


def _sweep_batch(tickets, now):
    batch = _Batch(tickets, now)
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
    batch.flush(fast=True)
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
        assignments = ", ".join(f"{name} = v.{name}" for name in fields[1:])
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
    assignments = ", ".join(f"{name} = v.{name}" for name in fields[1:])
    values = ", ".join([row] * len(tickets))
    sql = (
        f"WITH v({', '.join(fields)}) AS (VALUES {values}) "  # noqa: S608 (names from the model)
        f"UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
    """``bulk_create`` of the sweep's events in one statement, the columns bound server-side
    as binary arrays: model instances and client-side quoting of 500 rows cost more Python
    time than PostgreSQL spends writing them. No ids come back (the sweep needs none)."""
    table = connection.ops.quote_name(TicketEvent._meta.db_table)
    sql = (
        f"INSERT INTO {table} (ticket_id, actor_id, kind, summary, data, created_at) "  # noqa: S608
        "SELECT t, a, k, s, d::jsonb, c FROM unnest(%b::bigint[], %b::bigint[], %b::text[], "
        "%b::text[], %b::text[], %b::timestamptz[]) AS r(t, a, k, s, d, c)"
    )
    params = [
        [event.ticket_id for event in events],
        [event.actor_id for event in events],
        [str(event.kind) for event in events],
        [event.summary for event in events],
        [json.dumps(event.data) for event in events],
        [event.created_at for event in events],
    ]
    execute_bound(sql, params)
