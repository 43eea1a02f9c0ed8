"""The ``alerts:`` section of a plan: applied to ``AlertHook`` rows, exported back."""

import logging

from sla.models import Priority
from sla.plan.apply import apply_named_entries, warn_unset_secret

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
    entries = []
    for position, spec in enumerate(plan.alerts):
        values = {
            "source": spec.source,
            "secret_env": spec.secret_env,
            "severity": priorities[spec.severity],
            "severity_map": dict(spec.severity_map),
            "auto_resolve": spec.auto_resolve,
            "position": position,
        }
        entries.append((spec.name, values))
        warn_unset_secret(
            logger,
            service=service,
            section="alerts",
            name=spec.name,
            env=spec.secret_env,
            consequence="its hook refuses every request until it is",
        )
    apply_named_entries(AlertHook, service=service, entries=entries, now=now, report=report)


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
