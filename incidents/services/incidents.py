"""Open, edit and move incidents through their steps; resolve them (see ``incidents.steps``)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from paging.models import OnCallPage
from paging.oncall import on_call_pages_close_for
from sla.calendars import business_calendar
from sla.durations import parse_duration
from sla.models import EscalationPolicy, Priority, Service
from sla.selectors import staff_service_ids

from .. import deadlines, selectors
from ..models import OUTAGE_IMPACTS, Impact, Incident, IncidentStepRecord, Postmortem
from ..runbooks import runbook_for, runbook_start
from ..steps import StepError, StepForbidden, plan_move, resolve_step
from .common import lock_incident, one_line, require_staff
from .pages import incident_page
from .updates import release_held_updates


@transaction.atomic
def incident_open(
    *,
    service,
    severity,
    title,
    by,
    impact=None,
    outage=None,
    started_at=None,
    tickets=(),
    owner=None,
    runbook=None,
):
    """Open an incident, as a draft, at the first step of the service's process; ``by`` owns
    it unless ``owner`` is given. ``service``/``severity`` may be objects or their slug/code.
    ``runbook``: the plan's incident type (``data-breach``) or a ``Runbook``: its roles are told
    at once and its deadlines start from ``started_at`` (``incidents.runbooks``).

    ``impact`` is one of ``Impact``; callers from before impacts may give ``outage`` instead
    (true: a major outage, false: degraded performance); neither: a major outage. Nothing is
    public until ``incident_publish``."""
    require_staff(by)
    service = _service(service)
    works = staff_service_ids(by)
    if works is not None and service.pk not in works:
        raise ValidationError({"service": f"You do not work {service.name}."})
    severity = _severity(service, severity)
    now = timezone.now()
    title = _title(title)
    started_at = _started_at(started_at, now)
    owner = owner or by
    require_staff(owner, field="owner")
    tickets = list(tickets)
    _check_tickets(service, tickets)
    steps = selectors.incident_steps(service.pk)
    impact = _impact(impact, outage)
    runbook = runbook_for(service, runbook)
    incident = Incident.objects.create(
        service=service,
        severity=severity,
        title=title,
        impact=impact,
        outage=impact in OUTAGE_IMPACTS,
        step=steps[0],
        started_at=started_at,
        owner=owner,
        opened_by=by,
        runbook=runbook,
        created_at=now,
        updated_at=now,
    )
    IncidentStepRecord.objects.create(incident=incident, step=steps[0], at=now, by=by)
    if runbook is not None:
        runbook_start(incident, runbook)
    if tickets:
        incident.tickets.add(*tickets)
    # Pages go to staff destinations, so a draft pages too (publishing does not page again).
    incident_page(incident, "incident.opened")
    return incident


@transaction.atomic
def incident_edit(
    *,
    incident,
    by,
    title=None,
    severity=None,
    impact=None,
    outage=None,
    started_at=None,
    owner=None,
):
    """Change what the incident says about itself; ``None`` leaves a field as it is.
    ``outage`` (true/false) is the older word for a major outage / degraded performance.

    A new severity on a resolved incident re-dates its post-mortem (``redate_postmortem``):
    a business-day deadline counts on the severity's calendar."""
    require_staff(by)
    incident = lock_incident(incident)
    fields = []
    if title is not None:
        incident.title = _title(title)
        fields.append("title")
    if severity is not None:
        chosen = _severity(incident.service, severity)
        changed = chosen.pk != incident.severity_id
        incident.severity = chosen
        fields.append("severity")
        if changed:
            fields += redate_postmortem(incident)
    if impact is not None or outage is not None:
        incident.impact = _impact(impact, outage)
        incident.outage = incident.impact in OUTAGE_IMPACTS
        fields += ["impact", "outage"]
    if owner is not None:
        require_staff(owner, field="owner")
        incident.owner = owner
        fields.append("owner")
    if started_at is not None:
        started_at = _started_at(started_at, timezone.now())
        if incident.resolved_at is not None and started_at > incident.resolved_at:
            raise ValidationError(
                {"started_at": "The incident cannot start after it was resolved."}
            )
        incident.started_at = started_at
        fields.append("started_at")
    if fields:
        incident.updated_at = timezone.now()
        incident.save(update_fields=[*fields, "updated_at"])
    return incident


@transaction.atomic
def incident_publish(*, incident, by):
    """Publish a draft: from now on it is on /status/, in the JSON and the feeds, and its
    public updates are emailed — those held while it was a draft now, once each (their emails
    go out through the same background fan-out as any update: ``incidents.fanout``).

    Only a member with ``incidents.publish_incident`` (Tier 2 and 3, superusers) publishes;
    publishing a published incident is refused and sends nothing again."""
    require_staff(by)
    if not by.has_perm("incidents.publish_incident"):
        raise PermissionDenied("Only a member allowed to publish incidents publishes them.")
    incident = lock_incident(incident)
    if incident.published_at is not None:
        raise ValidationError(f"{incident.number} is already published.")
    now = timezone.now()
    incident.published_at = now
    incident.published_by = by
    incident.updated_at = now
    incident.save(update_fields=["published_at", "published_by", "updated_at"])
    release_held_updates(incident)
    return incident


@transaction.atomic
def incident_link_ticket(*, incident, ticket, by):
    """Link a ticket of the incident's service; linking it again changes nothing."""
    require_staff(by)
    incident = lock_incident(incident)
    _check_tickets(incident.service, [ticket])
    incident.tickets.add(ticket)
    return incident


@transaction.atomic
def incident_unlink_ticket(*, incident, ticket, by):
    require_staff(by)
    incident = lock_incident(incident)
    incident.tickets.remove(ticket)
    return incident


@transaction.atomic
def incident_advance(*, incident, step, by, note=""):
    """Move the incident to ``step`` of its process (see ``incidents.steps`` for the rules),
    recording who moved it and when; entering the resolving step resolves it."""
    require_staff(by)
    incident = lock_incident(incident)
    steps = selectors.incident_steps(incident.service_id)
    move_to_step(incident, steps, step, by=by, note=note, now=timezone.now())
    return incident


@transaction.atomic
def incident_resolve(*, incident, by, resolved_at=None, note=""):
    """Resolve the incident: at the resolving step (moved there if it is before it), resolved
    at ``resolved_at`` (now by default; earlier when the impact ended before it was recorded),
    and its post-mortem due from then."""
    require_staff(by)
    incident = lock_incident(incident)
    if incident.resolved_at is not None:
        raise ValidationError(f"{incident.number} is already resolved.")
    now = timezone.now()
    if resolved_at is not None:
        if timezone.is_naive(resolved_at):
            raise ValidationError({"resolved_at": "Give the time with its time zone."})
        if resolved_at > now:
            raise ValidationError({"resolved_at": "The resolution time cannot be in the future."})
        if resolved_at < incident.started_at:
            raise ValidationError(
                {"resolved_at": "The incident cannot be resolved before it started."}
            )
    steps = selectors.incident_steps(incident.service_id)
    target = resolve_step(steps)
    if incident.step in steps and steps.index(incident.step) >= steps.index(target):
        # Already at (or past) the resolving step without being resolved: a plan edited
        # since. Resolve where it stands, and record who did it as a move would.
        _record_step(
            incident, incident.step, by=by, now=now, note=note, details=["resolved at this step"]
        )
        set_resolved(incident, resolved_at or now, now, by=by)
    else:
        move_to_step(incident, steps, target, by=by, note=note, now=now, resolved_at=resolved_at)
    return incident


def move_to_step(incident, steps, target, *, by, note, now, resolved_at=None):
    """Move the locked incident to ``target`` of its process ``steps`` (the caller has read
    them) within the caller's transaction, recording who and when; resolving or reopening it
    as the move does (``incidents.steps.plan_move``)."""
    try:
        move = plan_move(
            steps,
            current=incident.step,
            target=target,
            resolved=incident.resolved_at is not None,
            may_go_back=by.is_superuser,
        )
    except StepForbidden as exc:
        raise PermissionDenied(str(exc)) from None
    except StepError as exc:
        raise ValidationError({"step": str(exc)}) from None
    details = []
    if move.skipped:
        details.append(f"skipped: {', '.join(move.skipped)}")
    if move.backward:
        details.append(f"moved back from {incident.step}")
    if move.reopens:
        details.append("reopened")
    _record_step(incident, move.target, by=by, now=now, note=note, details=details)
    incident.step = move.target
    incident.updated_at = now
    fields = ["step", "updated_at"]
    if move.resolves:
        fields += set_resolved(incident, resolved_at or now, now, save=False, by=by)
    if move.reopens:
        incident.resolved_at = None
        incident.postmortem_due_at = None
        incident.postmortem_reminder_at = None
        incident.postmortem_reminders_done = 0
        fields += [
            "resolved_at",
            "postmortem_due_at",
            "postmortem_reminder_at",
            "postmortem_reminders_done",
        ]
    incident.save(update_fields=fields)


def _record_step(incident, step, *, by, now, note, details):
    """The step record: staff's note first, then what the move did (skipped, reopened…)."""
    note = (note or "").strip()
    what = "; ".join(details)
    # "Rolled back." and "skipped: triage" read "Rolled back. (skipped: triage)", not ".;".
    text = f"{note} ({what})" if note and what else note or what
    IncidentStepRecord.objects.create(incident=incident, step=step, at=now, by=by, note=text[:500])


def set_resolved(incident, resolved_at, now, *, save=True, by=None):
    """Set the resolution time, the post-mortem deadline and the first reminder."""
    incident.resolved_at = resolved_at
    incident.postmortem_due_at = _postmortem_due_at(incident, business_calendar_of(incident))
    completed = _postmortem_completed(incident)
    incident.postmortem_reminders_done = 0
    incident.postmortem_reminder_at = None
    if incident.postmortem_due_at is not None and not completed:
        # The first stage (half-time); the sweep works out the rest when it gets there.
        incident.postmortem_reminder_at = deadlines.halfway(resolved_at, incident.postmortem_due_at)
    incident.updated_at = now
    fields = [
        "resolved_at",
        "postmortem_due_at",
        "postmortem_reminder_at",
        "postmortem_reminders_done",
        "updated_at",
    ]
    if save:
        incident.save(update_fields=fields)
    # Every resolution passes here (resolve, a move to the resolving step, an alert's
    # auto-resolve): one resolve page per incident, the trigger's dedup_key.
    incident_page(incident, "incident.resolved")
    # ... and its unacknowledged on-call page stops: the secondary is not called for it.
    on_call_pages_close_for(
        service_id=incident.service_id,
        dedup_key=f"incident-{incident.pk}",
        reason=OnCallPage.Closed.INCIDENT_RESOLVED,
        by=by,
        now=now,
    )
    return fields


def redate_postmortem(incident):
    """The locked, resolved incident's severity changed, and with it the business calendar a
    business-day ``postmortem_due`` ("2bd") counts on: the deadline again from the same
    resolution time, and the next reminder at the same stage of the new schedule, so a stage
    already handled (the half-time reminder sent) is not repeated; the reminder sweep sends a
    stage the new dates put in the past at its next run. A completed post-mortem keeps the
    deadline it was written against. Returns the fields changed (nothing for an open incident,
    or when the deadline does not move, as with "48h")."""
    if incident.resolved_at is None or _postmortem_completed(incident):
        return []
    calendar = business_calendar_of(incident)
    due_at = _postmortem_due_at(incident, calendar)
    if due_at == incident.postmortem_due_at:
        return []
    incident.postmortem_due_at = due_at
    incident.postmortem_reminder_at = None
    if due_at is not None:
        escalation = EscalationPolicy.objects.filter(service_id=incident.service_id).first()
        schedule = deadlines.incident_schedule(incident, escalation, calendar)
        done = incident.postmortem_reminders_done
        if done < len(schedule):
            incident.postmortem_reminder_at = schedule[done].at
    return ["postmortem_due_at", "postmortem_reminder_at"]


def business_calendar_of(incident):
    """The clock calendar of the incident's severity (24/7 when it has none)."""
    return business_calendar(incident.severity.calendar)


def _postmortem_due_at(incident, calendar):
    """``resolved_at`` + the plan's ``postmortem_due`` on ``calendar``; None when it has none."""
    policy = selectors.incident_policy(incident.service_id)
    due = parse_duration(policy.postmortem_due) if policy and policy.postmortem_due else None
    return deadlines.postmortem_due(resolved_at=incident.resolved_at, due=due, calendar=calendar)


def _postmortem_completed(incident):
    return Postmortem.objects.filter(incident=incident, completed_at__isnull=False).exists()


def _impact(impact, outage):
    if impact is None:
        if outage is None:
            return Impact.MAJOR_OUTAGE
        return Impact.MAJOR_OUTAGE if outage else Impact.DEGRADED_PERFORMANCE
    if impact not in Impact.values:
        raise ValidationError({"impact": "Choose the impact on the service."})
    return Impact(impact)


def _service(service):
    if isinstance(service, Service):
        return service
    found = Service.objects.filter(slug=service).first()
    if found is None:
        raise ValidationError({"service": f"No service {service!r}."})
    return found


def _severity(service, severity):
    if isinstance(severity, Priority):
        found = severity if severity.service_id == service.pk else None
    else:
        found = Priority.objects.filter(service=service, code=severity).first()
    if found is None:
        raise ValidationError(
            {"severity": f"Choose one of {service.name}'s priorities as the severity."}
        )
    if found.retired_at is not None:
        raise ValidationError({"severity": f"{found.code} is no longer one of the plan's."})
    return found


def _title(title):
    return one_line(
        title, field="title", limit=200, missing="Give the incident a title.", name="title"
    )


def _started_at(started_at, now):
    if started_at is None:
        return now
    if timezone.is_naive(started_at):
        raise ValidationError({"started_at": "Give the start time with its time zone."})
    if started_at > now:
        raise ValidationError({"started_at": "An incident cannot start in the future."})
    return started_at


def _check_tickets(service, tickets):
    others = [ticket.number for ticket in tickets if ticket.service_id != service.pk]
    if others:
        raise ValidationError(
            {"tickets": f"{', '.join(others)} belong to another service than {service.name}."}
        )
