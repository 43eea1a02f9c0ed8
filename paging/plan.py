"""The ``notify:`` section of a plan: applied to ``Destination`` rows, exported back."""

import logging
import os

from sla.plan.apply import sync

from .models import Destination

logger = logging.getLogger("sla.plan")


def paging_apply_plan(*, service, plan, now, report):
    """Make the service's destinations match ``plan.notify``, keyed on their names. One the
    plan no longer lists is retired (its sent deliveries stay for the record); listed again,
    it is active again. An unset ``secret_env`` is a warning: the plan still loads."""
    existing = {row.name: row for row in Destination.objects.filter(service=service)}
    for position, spec in enumerate(plan.notify):
        values = {
            "kind": spec.kind,
            "secret_env": spec.secret_env,
            "url": spec.url,
            "events": list(spec.events),
            "priorities": list(spec.priorities),
            "tiers": list(spec.tiers),
            "position": position,
            "retired_at": None,
        }
        row = existing.pop(spec.name, None)
        if row is None:
            Destination.objects.create(service=service, name=spec.name, **values)
            report.created += 1
        else:
            sync(row, values, report)
        if not os.environ.get(spec.secret_env):
            logger.warning(
                "%s: notify %r: environment variable %s is not set; "
                "nothing is sent to it until it is",
                service.slug,
                spec.name,
                spec.secret_env,
            )
    for row in existing.values():
        if row.retired_at is None:
            row.retired_at = now
            row.save(update_fields=["retired_at"])
            report.retired += 1


def paging_export_plan(*, service):
    rows = Destination.objects.filter(service=service, retired_at__isnull=True)
    entries = []
    for row in rows.order_by("position", "id"):
        entry = {"name": row.name, "kind": row.kind, "secret_env": row.secret_env}
        if row.url:
            entry["url"] = row.url
        entry["events"] = list(row.events)
        if row.priorities:
            entry["priorities"] = list(row.priorities)
        if row.tiers:
            entry["tiers"] = list(row.tiers)
        entries.append(entry)
    return {"notify": entries} if entries else {}
