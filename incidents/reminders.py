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
"""

import logging
from collections import Counter, defaultdict

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
    now = now or timezone.now()
    totals = sweep_due_rows(
        Incident.objects.select_related("service", "severity", "owner", "opened_by"),
        due_field="postmortem_reminder_at",
        now=now,
        batch_size=batch_size,
        handle=lambda batch: _remind(batch, now),
    )
    if totals:
        logger.info("Post-mortem reminders: %s", dict(totals))
    return dict(totals)


def _remind(batch, now):
    """One batch, in a fixed number of queries: context reads, one UPDATE, one INSERT."""
    counts = Counter()
    service_ids = {incident.service_id for incident in batch}
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
    completed = set(
        Postmortem.objects.filter(
            incident__in=[incident.pk for incident in batch], completed_at__isnull=False
        ).values_list("incident_id", flat=True)
    )
    calendars = business_calendars({incident.severity.calendar_id for incident in batch})
    outbox = []
    for incident in batch:
        if incident.pk in completed or not (incident.resolved_at and incident.postmortem_due_at):
            # Nothing to remind of (completed, or reopened): the sweep stops reading it.
            incident.postmortem_reminder_at = None
            counts["stopped"] += 1
            continue
        schedule = deadlines.incident_schedule(
            incident,
            policies.get(incident.service_id),
            calendars[incident.severity.calendar_id],
        )
        due = deadlines.reminders_due(schedule, done=incident.postmortem_reminders_done, now=now)
        for reminder in due.send:
            if reminder.to_owner:
                addresses = [_owner_address(incident)]
            else:
                addresses = sorted(contacts.get((incident.service_id, reminder.role), ()))
            rows = emails.reminder_emails(incident, reminder, addresses)
            if not rows:
                logger.warning(
                    "%s: nobody to send the post-mortem %s reminder to (%s)",
                    incident.number,
                    reminder.name,
                    "no owner with an email" if reminder.to_owner else f"no {reminder.role!r}",
                )
                counts["nobody"] += 1
            outbox += rows
            counts[reminder.kind] += 1
        counts["skipped"] += len(due.skipped)
        incident.postmortem_reminders_done = due.done
        incident.postmortem_reminder_at = due.next_at
    Incident.objects.bulk_update(
        batch, ["postmortem_reminder_at", "postmortem_reminders_done"], batch_size=len(batch)
    )
    notifications_create_many(emails=outbox)
    counts["emails"] += len(outbox)
    return counts


def _owner_address(incident):
    """The owner's address; the person who opened the incident when it has no owner."""
    for user in (incident.owner, incident.opened_by):
        if user is not None and user.is_active and user.email:
            return user.email
    return ""
