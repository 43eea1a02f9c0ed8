"""Runbooks per incident type: the plan's section, starting one when an incident of its type is
opened, marking a deadline done, and the reminder sweep of the deadlines.

- Opening an incident with a runbook (``incident_open(runbook="data-breach")``) records, in the
  same transaction, one email to each contact of the runbook's ``notify`` roles (the Security
  Officer hears of a breach at once) and one ``IncidentDeadline`` per deadline, due that long
  after detection (``started_at``; hours are real time, business days count the severity's
  calendar — the post-mortem rule, ``deadlines._after``).
- Each deadline is reminded as a post-mortem is (``deadlines.reminder_schedule``): the owner at
  half-time and at the deadline, then the management chain one interval apart; a late run sends
  the latest owner reminder only. The sweep reads ``reminder_at`` through its partial index,
  ``SKIP LOCKED``; every email is keyed by deadline, stage and address, so it is recorded once.
  It is the post-mortem sweep's batch (``reminders.send_due_reminders``) over deadline rows: one
  implementation of who is reminded when.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.rendering import render_email
from notifications.services import notifications_create_many
from sla.calendars import business_calendar
from sla.durations import parse_duration
from sla.models import EscalationPolicy, IncidentPolicy, ManagementContact
from sla.plan.apply import apply_named_entries

from . import deadlines
from .emails import admin_url, clean_addresses, keyed_emails, local_time, utc_naive
from .models import IncidentDeadline, Runbook
from .reminders import send_due_reminders

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


# --- the plan's section ----------------------------------------------------------------------


def runbooks_apply_plan(*, service, plan, now, report):
    runbooks = plan.incidents.runbooks if plan.incidents else ()
    entries = [
        (
            spec.type,
            {
                "title": spec.name,
                "steps": list(spec.steps),
                "notify": list(spec.notify),
                "deadlines": [list(deadline) for deadline in spec.deadlines],
                "position": position,
            },
        )
        for position, spec in enumerate(runbooks)
    ]
    apply_named_entries(Runbook, service=service, entries=entries, now=now, report=report)


def runbooks_export_plan(*, service):
    """``incidents.runbooks`` for the export. The ``incidents`` section is sla's, written before
    this one, so it is written again here whole (its two keys, as sla writes them) with the
    runbooks added: a section export replaces a top-level key, it cannot extend one."""
    runbooks = []
    for runbook in Runbook.objects.filter(service=service, retired_at__isnull=True):
        entry = {"type": runbook.name, "name": runbook.title}
        if runbook.steps:
            entry["steps"] = list(runbook.steps)
        if runbook.notify:
            entry["notify"] = list(runbook.notify)
        if runbook.deadlines:
            entry["deadlines"] = [
                {"name": name, "within": within} for name, within in runbook.deadlines
            ]
        runbooks.append(entry)
    if not runbooks:
        return {}
    policy = IncidentPolicy.objects.filter(service=service).first()
    section = {}
    if policy is not None:
        section = {"postmortem_due": policy.postmortem_due or None, "steps": list(policy.steps)}
    return {"incidents": {**section, "runbooks": runbooks}}


# --- starting one ----------------------------------------------------------------------------


def runbook_for(service, value):
    """The service's active runbook named ``value`` (a type or a ``Runbook``); None for none."""
    if value in (None, ""):
        return None
    if isinstance(value, Runbook):
        if value.service_id != service.pk or value.retired_at is not None:
            raise ValidationError({"runbook": "That runbook is not one of this service's."})
        return value
    runbook = Runbook.objects.filter(service=service, name=value, retired_at__isnull=True).first()
    if runbook is None:
        raise ValidationError({"runbook": f"{service.name} has no runbook {value!r}."})
    return runbook


def runbook_start(incident, runbook):
    """Inside ``incident_open``'s transaction: the deadlines and the at-once emails."""
    calendar = business_calendar(incident.severity.calendar)
    policy = EscalationPolicy.objects.filter(service_id=incident.service_id).first()
    rows = []
    for name, within in runbook.deadlines:
        due_at = deadlines.postmortem_due(
            resolved_at=incident.started_at, due=parse_duration(within), calendar=calendar
        )
        row = IncidentDeadline(incident=incident, name=name, due_at=due_at)
        row.reminder_at = _schedule(row, policy, calendar)[0].at
        rows.append(row)
    IncidentDeadline.objects.bulk_create(rows)
    contacts = ManagementContact.objects.filter(
        service_id=incident.service_id, role__in=runbook.notify
    ).select_related("user")
    addresses = {}
    for contact in contacts:
        if contact.address and (contact.user_id is None or contact.user.is_active):
            addresses.setdefault(contact.address.lower(), (contact.address, contact.role))
    if runbook.notify and not addresses:
        logger.warning("%s: nobody holds %s to tell", incident.number, runbook.notify)
    outbox = []
    for _lowered, (address, role) in sorted(addresses.items()):
        rendered = _render("incidents/runbook_started", incident, role=role, deadlines=rows)
        outbox += keyed_emails(
            f"incident:{incident.pk}:runbook:{runbook.name}", [address], rendered
        )
    notifications_create_many(emails=outbox)
    return rows


@transaction.atomic
def incident_deadline_done(*, deadline, by):
    """The deadline is met (the authority notified …): no reminder after this."""
    deadline = IncidentDeadline.objects.select_for_update().get(pk=deadline.pk)
    if deadline.done_at is None:
        deadline.done_at = timezone.now()
        deadline.done_by = by
        deadline.reminder_at = None
        deadline.save(update_fields=["done_at", "done_by", "reminder_at"])
    return deadline


# --- reminders -------------------------------------------------------------------------------


def _schedule(deadline, policy, calendar):
    return deadlines.policy_schedule(
        start=deadline.incident.started_at, due_at=deadline.due_at, policy=policy, calendar=calendar
    )


def deadline_reminders_send_due(*, now=None, batch_size=BATCH_SIZE):
    """Record every runbook deadline reminder that has come due by ``now``; returns counts.
    The post-mortem sweep's code (``reminders.send_due_reminders``) over deadline rows."""
    return send_due_reminders(
        IncidentDeadline.objects.select_related(
            "incident__service", "incident__severity", "incident__owner", "incident__opened_by"
        ),
        label="Runbook deadline reminders",
        now=now,
        batch_size=batch_size,
        at_field="reminder_at",
        done_field="reminders_done",
        incident_of=lambda row: row.incident,
        stopped_in=lambda batch: {row.pk for row in batch if row.done_at is not None},
        schedule_of=_schedule,
        emails_for=_reminder_emails,
        what=lambda row: f"{row.name!r} deadline",
    )


def _reminder_emails(row, reminder, addresses):
    addresses = clean_addresses(addresses)
    if not addresses:
        return []
    rendered = _render(
        "incidents/deadline_reminder",
        row.incident,
        deadline=row,
        overdue=reminder.kind != deadlines.HALFTIME,
        role=reminder.role,
    )
    return keyed_emails(f"incident-deadline:{row.pk}:{reminder.name}", addresses, rendered)


def _render(template, incident, **context):
    service = incident.service
    detected, tz_name = local_time(incident.started_at, service.timezone)
    extra = {}
    if "deadline" in context:
        extra["due"], _ = local_time(context["deadline"].due_at, service.timezone)
        extra["due_utc"] = utc_naive(context["deadline"].due_at)
    if "deadlines" in context:
        extra["due_list"] = [
            (row.name, *local_time(row.due_at, service.timezone)[:1], utc_naive(row.due_at))
            for row in context["deadlines"]
        ]
    return render_email(
        template,
        {
            "incident": incident,
            "service": service,
            "runbook": incident.runbook,
            "detected": detected,
            "detected_utc": utc_naive(incident.started_at),
            "timezone": tz_name,
            "url": admin_url(incident),
            **context,
            **extra,
        },
    )
