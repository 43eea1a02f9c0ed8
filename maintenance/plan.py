"""Maintenance's part of a plan file: its ``maintenance`` section, applied and exported.

``maintenance_apply_plan`` runs inside ``sla.plan.apply.plans_apply``'s transaction, which
reaches it through the section registered in ``MaintenanceConfig.ready`` (``sla`` owns the plan
format but may not import maintenance); ``routine_tasks`` are routine's (``routine.plan``).
"""

from functools import partial

from django.db import transaction

from sla.plan.apply import sync, upsert

from .banner import banner_cache_clear
from .models import MaintenancePolicy, MaintenanceWindow
from .services import window_cancel_announced, window_lock


@transaction.atomic
def maintenance_apply_plan(*, service, plan, now, report):
    """Make the service's maintenance policy and windows match ``plan``.

    Windows are keyed on their names; one the plan no longer lists is deactivated, never
    deleted, so notices already sent keep their window.
    A deactivated window's coming occurrences are cancelled for whoever was told of them.
    """
    _apply_policy(service, plan.maintenance, report)
    windows = plan.maintenance.windows if plan.maintenance else ()
    _apply_windows(service, windows, now, report)
    # Windows may have changed: the banner reads them afresh rather than within a minute.
    transaction.on_commit(partial(banner_cache_clear, service_id=service.pk))


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


def _apply_windows(service, specs, now, report):
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
            window_lock(window)
            sync(window, {"is_active": False}, report)
            # A deactivation is counted as retired, not as an update.
            report.updated -= 1
            report.retired += 1
            window_cancel_announced(window=window, now=now)


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
