"""Routine's part of a plan file: its ``routine_tasks`` list, applied and exported.

``sla`` owns the plan format and maintenance sits below routine, so neither may write routine's
tasks: ``RoutineConfig.ready`` registers these as the ``routine`` section, which
``sla.plan.apply.plans_apply`` runs inside its transaction after the sections below it.
"""

from sla.plan.apply import apply_named_entries

from .models import RoutineTask
from .services import routine_items_create


def routine_apply_plan(*, service, plan, now, report):
    """Make the service's routine tasks match ``plan``, then give them this period's items.

    Tasks are keyed on their names; one the plan no longer lists is retired, never deleted, so
    its checklist items stay. The items are made at once rather than at the next beat run a
    quarter of an hour later.
    """
    entries = [
        (
            spec.name,
            {
                "every": spec.every,
                "category": spec.category,
                "tier": spec.tier,
                "within": spec.within or "",
                "position": position,
            },
        )
        for position, spec in enumerate(plan.routine_tasks)
    ]
    apply_named_entries(RoutineTask, service=service, entries=entries, now=now, report=report)
    routine_items_create(now=now, service=service)


def routine_export_plan(*, service):
    """The service's ``routine_tasks`` as plain data (see ``sla.plan.export``)."""
    routine = []
    for task in service.routine_tasks.filter(retired_at__isnull=True).order_by("position"):
        entry = {"name": task.name, "every": task.every, "category": task.category}
        if task.tier is not None:
            entry["tier"] = task.tier
        if task.within:
            entry["within"] = task.within
        routine.append(entry)
    return {"routine_tasks": routine} if routine else {}
