"""The post-mortem reminder sweep: each reminder recorded exactly once, whatever runs when.

``postmortem_reminders_send_due`` runs every minute from beat (``incidents.tasks.
remind_postmortems``). An incident with a post-mortem to write carries the time of its next
reminder in ``postmortem_reminder_at`` (null when none is left, or once the post-mortem is
completed), and how many stages of its schedule are handled in ``postmortem_reminders_done``.

1. The sweep reads due incidents through the partial index on ``postmortem_reminder_at``, a
   batch at a time, ``FOR UPDATE SKIP LOCKED`` (``core.sweeps.sweep_due_rows``): two
   workers never hold the same incident and neither waits for the other; its cost depends on
   the due rows, not on the table.
2. For each incident it works out which stages have come due since the last run
   (``deadlines.reminders_due``: a late run sends the latest owner reminder, not stale ones),
   records their emails under keys unique per deadline, stage and address, and moves the two
   columns on — all in the batch's one transaction. A worker that dies half-way rolls back
   whole and the next run does the batch again; a second run finds the columns moved and the
   keys taken, and records nothing.

Completing the post-mortem (``services.postmortem_complete``) takes the incident's row lock and
clears the column, so a reminder is never recorded after the post-mortem was completed.

The same sweep reminds of runbook deadlines (``incidents.runbooks``): ``send_due_reminders`` and
``remind_batch`` take the row, its two columns, its schedule and its emails, and are the one
implementation of who hears when, for both.
"""

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.utils import timezone

from core.sweeps import sweep_due_rows
from notifications.services import notifications_create_many
from sla.calendars import business_calendars
from sla.models import EscalationPolicy, ManagementContact

from . import deadlines, emails
from .models import Incident, Postmortem

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


def postmortem_reminders_send_due(*, now=None, batch_size=BATCH_SIZE):
    """Record every post-mortem reminder that has come due by ``now``; returns the counts."""
    return send_due_reminders(
        Incident.objects.select_related("service", "severity", "owner", "opened_by"),
        label="Post-mortem reminders",
        now=now,
        batch_size=batch_size,
        at_field="postmortem_reminder_at",
        done_field="postmortem_reminders_done",
        incident_of=lambda incident: incident,
        stopped_in=_postmortems_stopped,
        schedule_of=deadlines.incident_schedule,
        emails_for=emails.reminder_emails,
        what=lambda incident: "post-mortem",
    )


def _postmortems_stopped(batch):
    """Nothing to remind of (completed, or reopened): the sweep stops reading these."""
    completed = set(
        Postmortem.objects.filter(
            incident__in=[incident.pk for incident in batch], completed_at__isnull=False
        ).values_list("incident_id", flat=True)
    )
    return completed | {
        incident.pk
        for incident in batch
        if not (incident.resolved_at and incident.postmortem_due_at)
    }


# --- what every reminder sweep of an incident's deadline shares --------------------------------
#
# A post-mortem and a runbook deadline (``incidents.runbooks``) are reminded the same way: the
# schedule of ``deadlines.reminder_schedule`` under the service's escalation policy and the
# severity's calendar, the owner (or whoever opened the incident) for owner stages, the
# management contacts of a role for the chain. Only the row, its two columns, the schedule's
# start and due time, and the emails differ.


def send_due_reminders(rows, *, label, now=None, batch_size=BATCH_SIZE, at_field, **how):
    """Sweep ``rows`` (a queryset loading each row's incident) whose ``at_field`` has come due
    by ``now``, a batch at a time (``sweep_due_rows``), and record their reminders
    (``remind_batch``, told ``how``); returns the counts, logged under ``label``."""
    now = now or timezone.now()
    totals = sweep_due_rows(
        rows,
        due_field=at_field,
        now=now,
        batch_size=batch_size,
        handle=lambda batch: remind_batch(batch, now, at_field=at_field, **how),
    )
    if totals:
        logger.info("%s: %s", label, dict(totals))
    return dict(totals)


def remind_batch(
    batch, now, *, at_field, done_field, incident_of, stopped_in, schedule_of, emails_for, what
):
    """Record the reminders of ``batch`` (rows locked by ``sweep_due_rows``) that have come due
    by ``now`` and move their ``at_field``/``done_field`` on, in a fixed number of queries
    (context reads, one UPDATE, one INSERT); returns counts.

    ``incident_of(row)`` is the row's incident (service, severity, owner, opened_by loaded);
    ``stopped_in(batch)``: the pks of rows with nothing left to remind of (column cleared);
    ``schedule_of(row, policy, calendar)``: its ``deadlines.Reminder`` list;
    ``emails_for(row, reminder, addresses)``: its outbox rows; ``what(row)`` names it in logs.
    """
    counts = Counter()
    context = _context([incident_of(row) for row in batch])
    stopped = stopped_in(batch)
    outbox = []
    for row in batch:
        incident = incident_of(row)
        if row.pk in stopped:
            setattr(row, at_field, None)
            counts["stopped"] += 1
            continue
        schedule = schedule_of(
            row,
            context.policies.get(incident.service_id),
            context.calendars[incident.severity.calendar_id],
        )
        due = deadlines.reminders_due(schedule, done=getattr(row, done_field), now=now)
        for reminder in due.send:
            rows = emails_for(row, reminder, context.addresses(incident, reminder))
            if not rows:
                logger.warning(
                    "%s: nobody to send the %s %s reminder to (%s)",
                    incident.number,
                    what(row),
                    reminder.name,
                    "no owner with an email" if reminder.to_owner else f"no {reminder.role!r}",
                )
                counts["nobody"] += 1
            outbox += rows
            counts[reminder.kind] += 1
        counts["skipped"] += len(due.skipped)
        setattr(row, done_field, due.done)
        setattr(row, at_field, due.next_at)
    type(batch[0]).objects.bulk_update(batch, [at_field, done_field], batch_size=len(batch))
    notifications_create_many(emails=outbox)
    counts["emails"] += len(outbox)
    return counts


@dataclass(frozen=True)
class _Context:
    """What a batch's reminders read, in three queries whatever the batch's size."""

    policies: dict  # service id -> EscalationPolicy
    contacts: dict  # (service id, role) -> {address}
    calendars: dict  # calendar id -> business calendar

    def addresses(self, incident, reminder):
        if reminder.to_owner:
            return [_owner_address(incident)]
        return sorted(self.contacts.get((incident.service_id, reminder.role), ()))


def _context(incidents):
    service_ids = {incident.service_id for incident in incidents}
    policies = {
        policy.service_id: policy
        for policy in EscalationPolicy.objects.filter(service_id__in=service_ids)
    }
    contacts = defaultdict(set)
    for contact in ManagementContact.objects.filter(service_id__in=service_ids).select_related(
        "user"
    ):
        if contact.address:
            contacts[(contact.service_id, contact.role)].add(contact.address)
    calendars = business_calendars({incident.severity.calendar_id for incident in incidents})
    return _Context(policies, contacts, calendars)


def _owner_address(incident):
    """The owner's address; the person who opened the incident when it has no owner."""
    for user in (incident.owner, incident.opened_by):
        if user is not None and user.is_active and user.email:
            return user.email
    return ""
