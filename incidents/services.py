"""Every write to incidents, their steps, updates and post-mortems.

Each function is one transaction that locks the incident row first, so two staff acting on the
same incident at once take turns and each sees the other's result; emails are recorded in the
outbox inside that transaction and delivered after it commits. Bad input raises
``ValidationError`` (or ``PermissionDenied``) and changes nothing. The step rules are in
``incidents.steps``, the post-mortem deadline in ``incidents.deadlines``.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from maintenance.services import subscriptions_sync_members
from notifications.models import Notification
from notifications.services import notifications_insert_many
from sla.calendars import business_calendar
from sla.durations import parse_duration
from sla.models import Priority, Service

from . import deadlines, emails, selectors
from .models import Incident, IncidentStepRecord, IncidentUpdate, Postmortem, PostmortemAction
from .steps import StepError, StepForbidden, plan_move, resolve_step, steps_of

MAX_UPDATE_LENGTH = 20_000
_KEY_CHUNK = 5000


# --- incidents -------------------------------------------------------------------------------


@transaction.atomic
def incident_open(
    *,
    service,
    severity,
    title,
    by,
    outage=True,
    started_at=None,
    tickets=(),
    owner=None,
):
    """Open an incident at the first step of the service's process; ``by`` owns it unless
    ``owner`` is given. ``service``/``severity`` may be objects or their slug/code."""
    _require_staff(by)
    service = _service(service)
    severity = _severity(service, severity)
    now = timezone.now()
    title = _title(title)
    started_at = _started_at(started_at, now)
    owner = owner or by
    _require_staff(owner, field="owner")
    tickets = list(tickets)
    _check_tickets(service, tickets)
    steps = selectors.incident_steps(service.pk)
    incident = Incident.objects.create(
        service=service,
        severity=severity,
        title=title,
        outage=bool(outage),
        step=steps[0],
        started_at=started_at,
        owner=owner,
        opened_by=by,
        created_at=now,
        updated_at=now,
    )
    IncidentStepRecord.objects.create(incident=incident, step=steps[0], at=now, by=by)
    if tickets:
        incident.tickets.add(*tickets)
    return incident


@transaction.atomic
def incident_edit(
    *, incident, by, title=None, severity=None, outage=None, started_at=None, owner=None
):
    """Change what the incident says about itself; ``None`` leaves a field as it is."""
    _require_staff(by)
    incident = _lock(incident)
    fields = []
    if title is not None:
        incident.title = _title(title)
        fields.append("title")
    if severity is not None:
        incident.severity = _severity(incident.service, severity)
        fields.append("severity")
    if outage is not None:
        incident.outage = bool(outage)
        fields.append("outage")
    if owner is not None:
        _require_staff(owner, field="owner")
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
def incident_link_ticket(*, incident, ticket, by):
    """Link a ticket of the incident's service; linking it again changes nothing."""
    _require_staff(by)
    incident = _lock(incident)
    _check_tickets(incident.service, [ticket])
    incident.tickets.add(ticket)
    return incident


@transaction.atomic
def incident_unlink_ticket(*, incident, ticket, by):
    _require_staff(by)
    incident = _lock(incident)
    incident.tickets.remove(ticket)
    return incident


@transaction.atomic
def incident_advance(*, incident, step, by, note=""):
    """Move the incident to ``step`` of its process (see ``incidents.steps`` for the rules),
    recording who moved it and when; entering the resolving step resolves it."""
    _require_staff(by)
    incident = _lock(incident)
    now = timezone.now()
    _move(incident, step, by=by, note=note, now=now)
    return incident


@transaction.atomic
def incident_resolve(*, incident, by, resolved_at=None, note=""):
    """Resolve the incident: at the resolving step (moved there if it is before it), resolved
    at ``resolved_at`` (now by default; earlier when the impact ended before it was recorded),
    and its post-mortem due from then."""
    _require_staff(by)
    incident = _lock(incident)
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
    steps = _steps(incident)
    target = resolve_step(steps)
    if incident.step in steps and steps.index(incident.step) >= steps.index(target):
        # Already at (or past) the resolving step without being resolved: a plan edited
        # since. Resolve where it stands, and record who did it as a move would.
        details = [note.strip()] if note and note.strip() else []
        details.append("resolved at this step")
        IncidentStepRecord.objects.create(
            incident=incident, step=incident.step, at=now, by=by, note="; ".join(details)[:500]
        )
        _resolve(incident, resolved_at or now, now)
    else:
        _move(incident, target, by=by, note=note, now=now, resolved_at=resolved_at)
    return incident


def _move(incident, target, *, by, note, now, resolved_at=None):
    steps = _steps(incident)
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
    details = [note.strip()] if note and note.strip() else []
    if move.skipped:
        details.append(f"skipped: {', '.join(move.skipped)}")
    if move.backward:
        details.append(f"moved back from {incident.step}")
    if move.reopens:
        details.append("reopened")
    IncidentStepRecord.objects.create(
        incident=incident, step=move.target, at=now, by=by, note="; ".join(details)[:500]
    )
    incident.step = move.target
    incident.updated_at = now
    fields = ["step", "updated_at"]
    if move.resolves:
        fields += _resolve(incident, resolved_at or now, now, save=False)
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


def _resolve(incident, resolved_at, now, *, save=True):
    """Set the resolution time, the post-mortem deadline and the first reminder."""
    incident.resolved_at = resolved_at
    policy = selectors.incident_policy(incident.service_id)
    due = parse_duration(policy.postmortem_due) if policy and policy.postmortem_due else None
    calendar = business_calendar(incident.severity.calendar)
    incident.postmortem_due_at = deadlines.postmortem_due(
        resolved_at=resolved_at, due=due, calendar=calendar
    )
    completed = Postmortem.objects.filter(incident=incident, completed_at__isnull=False).exists()
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
    return fields


# --- updates ---------------------------------------------------------------------------------


@transaction.atomic
def incident_post_update(*, incident, body, public, by):
    """Post an update. A public one shows on /status/ and is emailed to the service's
    subscribers and customers, once each; an internal one is for staff only and goes nowhere."""
    _require_staff(by)
    incident = _lock(incident)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the update."})
    if len(body) > MAX_UPDATE_LENGTH:
        raise ValidationError(
            {"body": f"Keep the update to at most {MAX_UPDATE_LENGTH} characters."}
        )
    now = timezone.now()
    update = IncidentUpdate.objects.create(
        incident=incident, body=body, public=bool(public), author=by, created_at=now
    )
    incident.updated_at = now
    incident.save(update_fields=["updated_at"])
    if update.public:
        incident_update_notify(update=update)
    return update


@transaction.atomic
def incident_update_notify(*, update):
    """Record the emails of a public update for every current recipient who has none yet.

    Idempotent: run again, it records only for recipients added since (keys per update and
    address). An internal note records nothing, ever. Returns how many emails were recorded.
    """
    if not update.public:
        return 0
    incident = Incident.objects.select_related("service", "severity").get(pk=update.incident_id)
    update.incident = incident
    subscriptions_sync_members(service_id=incident.service_id)
    recipients = selectors.update_recipients(service_id=incident.service_id)
    prefix = f"incident-update:{update.pk}"
    fresh = []
    for start in range(0, len(recipients), _KEY_CHUNK):
        chunk = recipients[start : start + _KEY_CHUNK]
        keys = {emails.outbox_key(prefix, address): (address, token) for address, token in chunk}
        recorded = set(
            Notification.objects.filter(key__in=list(keys)).values_list("key", flat=True)
        )
        fresh += [pair for key, pair in keys.items() if key not in recorded]
    if not fresh:
        return 0
    return notifications_insert_many(emails=emails.update_emails(update, fresh))


# --- post-mortems ----------------------------------------------------------------------------


@transaction.atomic
def postmortem_save(*, incident, by, summary=None, timeline=None, root_cause=None):
    """Write (or edit) the incident's post-mortem; ``None`` leaves a part as it is. A draft
    may be started while the incident is still open."""
    _require_staff(by)
    incident = _lock(incident)
    now = timezone.now()
    postmortem, _ = Postmortem.objects.get_or_create(
        incident=incident, defaults={"created_at": now, "updated_at": now}
    )
    fields = []
    for name, value in (("summary", summary), ("timeline", timeline), ("root_cause", root_cause)):
        if value is not None:
            setattr(postmortem, name, value.strip())
            fields.append(name)
    if fields:
        postmortem.updated_at = now
        postmortem.save(update_fields=[*fields, "updated_at"])
    return postmortem


@transaction.atomic
def postmortem_complete(*, incident, by):
    """The post-mortem is written: its reminders stop, and the incident moves to the last
    step of its process (the review) when it is not there yet."""
    _require_staff(by)
    incident = _lock(incident)
    postmortem = Postmortem.objects.select_for_update().filter(incident=incident).first()
    if postmortem is None:
        raise ValidationError(f"{incident.number} has no post-mortem yet: write it first.")
    if postmortem.completed_at is not None:
        raise ValidationError(f"The post-mortem of {incident.number} is already completed.")
    if incident.resolved_at is None:
        raise ValidationError(
            f"{incident.number} is not resolved yet: complete the post-mortem once it is."
        )
    missing = [
        label
        for label, value in (("summary", postmortem.summary), ("root cause", postmortem.root_cause))
        if not value.strip()
    ]
    if missing:
        raise ValidationError(f"Write the {' and the '.join(missing)} before completing it.")
    now = timezone.now()
    postmortem.completed_at, postmortem.completed_by, postmortem.updated_at = now, by, now
    postmortem.save(update_fields=["completed_at", "completed_by", "updated_at"])
    incident.postmortem_reminder_at = None
    incident.updated_at = now
    incident.save(update_fields=["postmortem_reminder_at", "updated_at"])
    steps = _steps(incident)
    # The review is the step after resolving; a plan that ends at resolving has none.
    has_review = len(steps) - 1 > steps.index(resolve_step(steps))
    if has_review and incident.step in steps and steps.index(incident.step) < len(steps) - 1:
        _move(incident, steps[-1], by=by, note="post-mortem completed", now=now)
    return postmortem


@transaction.atomic
def postmortem_publish(*, incident, by):
    """Show the completed post-mortem on the status page."""
    _require_staff(by)
    incident = _lock(incident)
    postmortem = Postmortem.objects.select_for_update().filter(incident=incident).first()
    if postmortem is None or postmortem.completed_at is None:
        raise ValidationError("Only a completed post-mortem can be published.")
    if postmortem.published_at is not None:
        raise ValidationError(f"The post-mortem of {incident.number} is already published.")
    now = timezone.now()
    postmortem.published_at, postmortem.published_by, postmortem.updated_at = now, by, now
    postmortem.save(update_fields=["published_at", "published_by", "updated_at"])
    return postmortem


@transaction.atomic
def postmortem_unpublish(*, incident, by):
    """Take the post-mortem off the status page (it stays completed)."""
    _require_staff(by)
    incident = _lock(incident)
    postmortem = Postmortem.objects.select_for_update().filter(incident=incident).first()
    if postmortem is None or postmortem.published_at is None:
        raise ValidationError(f"The post-mortem of {incident.number} is not published.")
    postmortem.published_at, postmortem.published_by = None, None
    postmortem.updated_at = timezone.now()
    postmortem.save(update_fields=["published_at", "published_by", "updated_at"])
    return postmortem


@transaction.atomic
def postmortem_action_add(*, postmortem, by, description, owner=None, due_on=None):
    """A follow-up action of the post-mortem, with the staff member who owns it."""
    _require_staff(by)
    _lock(postmortem.incident)
    if owner is not None:
        _require_staff(owner, field="owner")
    return PostmortemAction.objects.create(
        postmortem=postmortem,
        description=_action_text(description),
        owner=owner,
        due_on=due_on,
    )


@transaction.atomic
def postmortem_action_edit(
    *,
    action,
    by,
    description=None,
    owner=None,
    due_on=None,
    clear_owner=False,
    clear_due_on=False,
    done=None,
):
    """Change an action; ``None`` leaves a part as it is, ``clear_owner``/``clear_due_on``
    empty one; ``done`` True/False marks it done (now) or not done."""
    _require_staff(by)
    _lock(action.postmortem.incident)
    action = PostmortemAction.objects.select_for_update().get(pk=action.pk)
    fields = []
    if description is not None:
        action.description = _action_text(description)
        fields.append("description")
    if clear_owner:
        action.owner = None
        fields.append("owner")
    elif owner is not None:
        _require_staff(owner, field="owner")
        action.owner = owner
        fields.append("owner")
    if clear_due_on:
        action.due_on = None
        fields.append("due_on")
    elif due_on is not None:
        action.due_on = due_on
        fields.append("due_on")
    if done is not None and bool(done) != (action.done_at is not None):
        action.done_at = timezone.now() if done else None
        fields.append("done_at")
    if fields:
        action.save(update_fields=fields)
    return action


# --- helpers ---------------------------------------------------------------------------------


def _lock(incident):
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("service", "severity__calendar")
        .get(pk=incident.pk)
    )


def _steps(incident):
    return steps_of(selectors.incident_policy(incident.service_id))


def _require_staff(user, *, field=None):
    if user is None or not (user.is_active and user.is_staff):
        if field:
            raise ValidationError({field: "Choose an active staff member."})
        raise PermissionDenied("Only staff work incidents.")


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
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": "Give the incident a title."})
    if len(title) > 200:
        raise ValidationError({"title": "Keep the title to at most 200 characters."})
    return title


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


def _action_text(description):
    description = " ".join((description or "").split())
    if not description:
        raise ValidationError({"description": "Say what is to be done."})
    if len(description) > 500:
        raise ValidationError({"description": "Keep the action to at most 500 characters."})
    return description
