"""The rules of an incident's steps, as pure functions over the plan's list of step names.

- The steps are the plan's ``incidents.steps`` (``DEFAULT_STEPS`` when the plan names none).
- Staff move an incident forward only, to the next step or further on (a quick fix may go
  from triage straight to resolve); the steps passed over are named in the step record.
- Moving back is for superusers only (a step entered by mistake). Moving back before the
  resolving step reopens the incident: it counts as down again from its original start.
- The resolving step is the one named ``resolve`` (or ``resolved``/``resolution``, as plans
  write it); a plan without such a step resolves at its last step. Entering it, or any later
  step, resolves the incident.
- An incident at a step its plan no longer has (the plan was edited) may move to any step.
"""

from dataclasses import dataclass

from .models import DEFAULT_STEPS

RESOLVE_NAMES = ("resolve", "resolved", "resolution")


class StepError(ValueError):
    """A move the rules refuse; the message says why, for staff to read."""


class StepForbidden(StepError):
    """A move only a superuser may make (back a step, or reopening)."""


@dataclass(frozen=True)
class Move:
    target: str
    backward: bool
    skipped: tuple[str, ...]
    resolves: bool  # the incident is resolved once it is at ``target``
    reopens: bool  # a resolved incident moves back before the resolving step


def steps_of(policy):
    """The service's incident steps: its plan's, or the default process."""
    steps = list(policy.steps) if policy is not None and policy.steps else []
    return steps or list(DEFAULT_STEPS)


def resolve_step(steps):
    for name in steps:
        if name.strip().lower() in RESOLVE_NAMES:
            return name
    return steps[-1]


def plan_move(steps, *, current, target, resolved, may_go_back):
    """Check a move from ``current`` to ``target``; return what it does or raise StepError."""
    if target not in steps:
        raise StepError(
            f"{target!r} is not a step of this service's incident process ({' → '.join(steps)})."
        )
    if target == current:
        raise StepError(f"The incident is already at {target!r}.")
    resolving = steps.index(resolve_step(steps))
    to = steps.index(target)
    at = steps.index(current) if current in steps else None
    backward = at is not None and to < at
    if backward and not may_go_back:
        raise StepForbidden(
            f"Steps only move forward ({current!r} comes after {target!r}); "
            "a superuser can move an incident back."
        )
    reopens = resolved and to < resolving
    if reopens and not may_go_back:
        raise StepForbidden(
            "The incident is resolved; only a superuser can reopen it (a recurrence is a new "
            "incident)."
        )
    skipped = tuple(steps[at + 1 : to]) if at is not None and to > at else ()
    return Move(
        target=target,
        backward=backward,
        skipped=skipped,
        resolves=to >= resolving and not resolved,
        reopens=reopens,
    )


def next_step(steps, current):
    """The step after ``current``, or None at the last one."""
    if current not in steps:
        return steps[0]
    index = steps.index(current)
    return steps[index + 1] if index + 1 < len(steps) else None
