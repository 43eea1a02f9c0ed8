"""Write, complete and publish post-mortems, and their actions with owners."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Postmortem, PostmortemAction
from ..selectors import incident_steps
from ..steps import resolve_step
from .common import lock_incident, lock_postmortem, one_line, require_staff
from .incidents import move_to_step


@transaction.atomic
def postmortem_save(*, incident, by, summary=None, timeline=None, root_cause=None):
    """Write (or edit) the incident's post-mortem; ``None`` leaves a part as it is. A draft
    may be started while the incident is still open."""
    require_staff(by)
    incident = lock_incident(incident)
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
    require_staff(by)
    incident, postmortem = lock_postmortem(incident)
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
    steps = incident_steps(incident.service_id)
    # The review is the step after resolving; a plan that ends at resolving has none.
    has_review = len(steps) - 1 > steps.index(resolve_step(steps))
    if has_review and incident.step in steps and steps.index(incident.step) < len(steps) - 1:
        move_to_step(incident, steps, steps[-1], by=by, note="post-mortem completed", now=now)
    return postmortem


@transaction.atomic
def postmortem_publish(*, incident, by):
    """Show the completed post-mortem on the status page."""
    require_staff(by)
    incident, postmortem = lock_postmortem(incident)
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
    require_staff(by)
    incident, postmortem = lock_postmortem(incident)
    if postmortem is None or postmortem.published_at is None:
        raise ValidationError(f"The post-mortem of {incident.number} is not published.")
    postmortem.published_at, postmortem.published_by = None, None
    postmortem.updated_at = timezone.now()
    postmortem.save(update_fields=["published_at", "published_by", "updated_at"])
    return postmortem


@transaction.atomic
def postmortem_action_add(*, postmortem, by, description, owner=None, due_on=None):
    """A follow-up action of the post-mortem, with the staff member who owns it."""
    require_staff(by)
    lock_incident(postmortem.incident)
    if owner is not None:
        require_staff(owner, field="owner")
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
    require_staff(by)
    lock_incident(action.postmortem.incident)
    action = PostmortemAction.objects.select_for_update().get(pk=action.pk)
    fields = []
    if description is not None:
        action.description = _action_text(description)
        fields.append("description")
    if clear_owner:
        action.owner = None
        fields.append("owner")
    elif owner is not None:
        require_staff(owner, field="owner")
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


def _action_text(description):
    return one_line(
        description,
        field="description",
        limit=500,
        missing="Say what is to be done.",
        name="action",
    )
