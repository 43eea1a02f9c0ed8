"""The ``alerts:`` section of a plan: applied to ``AlertHook`` rows, exported back."""

import logging
import os

from sla.models import Priority
from sla.plan.apply import sync

from .models import AlertHook

logger = logging.getLogger("sla.plan")


def alerts_apply_plan(*, service, plan, now, report):
    """Make the service's hooks match ``plan.alerts``, keyed on their names. A hook the plan no
    longer lists is retired (its URL answers 404; its alerts stay); listed again, it is back.
    An unset ``secret_env`` is a warning: the hook refuses every request until it is set."""
    priorities = {
        priority.code: priority
        for priority in Priority.objects.filter(service=service, retired_at__isnull=True)
    }
    existing = {row.name: row for row in AlertHook.objects.filter(service=service)}
    for position, spec in enumerate(plan.alerts):
        values = {
            "source": spec.source,
            "secret_env": spec.secret_env,
            "severity": priorities[spec.severity],
            "severity_map": dict(spec.severity_map),
            "auto_resolve": spec.auto_resolve,
            "position": position,
            "retired_at": None,
        }
        row = existing.pop(spec.name, None)
        if row is None:
            AlertHook.objects.create(service=service, name=spec.name, **values)
            report.created += 1
        else:
            sync(row, values, report)
        if not os.environ.get(spec.secret_env):
            logger.warning(
                "%s: alerts %r: environment variable %s is not set; "
                "its hook refuses every request until it is",
                service.slug,
                spec.name,
                spec.secret_env,
            )
    for row in existing.values():
        if row.retired_at is None:
            row.retired_at = now
            row.save(update_fields=["retired_at"])
            report.retired += 1


def alerts_export_plan(*, service):
    rows = AlertHook.objects.filter(service=service, retired_at__isnull=True)
    entries = []
    for row in rows.select_related("severity").order_by("position", "id"):
        entry = {
            "name": row.name,
            "source": row.source,
            "secret_env": row.secret_env,
            "severity": row.severity.code,
        }
        if row.severity_map:
            entry["severity_map"] = dict(sorted(row.severity_map.items()))
        if row.auto_resolve:
            entry["auto_resolve"] = True
        entries.append(entry)
    return {"alerts": entries} if entries else {}
