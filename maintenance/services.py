"""Every write to maintenance data.

``maintenance_apply_plan`` is this app's part of loading a plan file (the ``maintenance`` and
``routine_tasks`` sections); it runs inside ``sla.plan.apply.plans_apply``'s transaction, which
reaches it through the section registered in ``MaintenanceConfig.ready``.
"""

from django.db import transaction

from sla.plan.apply import sync, upsert

from .models import MaintenancePolicy, MaintenanceWindow, RoutineTask


@transaction.atomic
def maintenance_apply_plan(*, service, plan, now, report):
    """Make the service's maintenance policy, windows and routine tasks match ``plan``.

    Windows and tasks are keyed on their names; one the plan no longer lists is deactivated
    (windows) or retired (tasks), never deleted, so notices already sent keep their window.
    """
    _apply_policy(service, plan.maintenance, report)
    windows = plan.maintenance.windows if plan.maintenance else ()
    _apply_windows(service, windows, report)
    _apply_routine_tasks(service, plan.routine_tasks, now, report)


def _apply_policy(service, spec, report):
    existing = {row.service_id: row for row in MaintenancePolicy.objects.filter(service=service)}
    if spec is None:
        if existing:
            existing[service.pk].delete()
            report.retired += 1
        return
    upsert(
        MaintenancePolicy,
        existing,
        service.pk,
        {
            "notices": list(spec.notices),
            "channels": list(spec.channels),
            "quarterly_digest": spec.quarterly_digest or "",
            "allowed": spec.allowed or "",
        },
        report,
        service=service,
    )


def _apply_windows(service, specs, report):
    existing = {window.name: window for window in service.maintenance_windows.all()}
    for position, spec in enumerate(specs):
        upsert(
            MaintenanceWindow,
            existing,
            spec.name,
            {
                "category": spec.category,
                "rrule": spec.rrule or "",
                "date": spec.date,
                "start": spec.start,
                "duration": spec.duration,
                "timezone": spec.timezone,
                "impact": spec.impact,
                "is_active": True,
                "position": position,
            },
            report,
            service=service,
            name=spec.name,
        )
    listed = {spec.name for spec in specs}
    for name, window in existing.items():
        if name not in listed and window.is_active:
            sync(window, {"is_active": False}, report)
            # A deactivation is counted as retired, not as an update.
            report.updated -= 1
            report.retired += 1


def _apply_routine_tasks(service, specs, now, report):
    existing = {task.name: task for task in service.routine_tasks.all()}
    for position, spec in enumerate(specs):
        upsert(
            RoutineTask,
            existing,
            spec.name,
            {
                "every": spec.every,
                "category": spec.category,
                "tier": spec.tier,
                "position": position,
                "retired_at": None,
            },
            report,
            service=service,
            name=spec.name,
        )
    listed = {spec.name for spec in specs}
    for name, task in existing.items():
        if name not in listed and task.retired_at is None:
            task.retired_at = now
            task.save(update_fields=["retired_at", "updated_at"])
            report.retired += 1


def maintenance_export_plan(*, service):
    """This app's part of the service's plan file, as plain data (see ``sla.plan.export``)."""
    tree = {}
    policy = MaintenancePolicy.objects.filter(service=service).first()
    windows = list(service.maintenance_windows.filter(is_active=True).order_by("position"))
    if policy is not None or windows:
        section = {}
        if policy is not None:
            section["notices"] = list(policy.notices)
            section["channels"] = list(policy.channels)
            if policy.quarterly_digest:
                section["quarterly_digest"] = policy.quarterly_digest
            if policy.allowed:
                section["allowed"] = policy.allowed
        section["windows"] = [_window_tree(window) for window in windows]
        tree["maintenance"] = section
    tasks = service.routine_tasks.filter(retired_at__isnull=True).order_by("position")
    routine = []
    for task in tasks:
        entry = {"name": task.name, "every": task.every, "category": task.category}
        if task.tier is not None:
            entry["tier"] = task.tier
        routine.append(entry)
    if routine:
        tree["routine_tasks"] = routine
    return tree


def _window_tree(window):
    entry = {"name": window.name, "category": window.category}
    if window.rrule:
        entry["rrule"] = window.rrule
    else:
        entry["date"] = window.date
    entry["start"] = window.start.strftime("%H:%M")
    entry["duration"] = window.duration
    entry["timezone"] = window.timezone
    if window.impact:
        entry["impact"] = window.impact
    return entry
