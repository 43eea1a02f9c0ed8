"""The ``notify:`` section of a plan: applied to ``Destination`` rows, exported back."""

import logging

from sla.plan.apply import apply_named_entries, warn_unset_secret

from .models import Destination

logger = logging.getLogger("sla.plan")


def paging_apply_plan(*, service, plan, now, report):
    """Make the service's destinations match ``plan.notify``, keyed on their names. One the
    plan no longer lists is retired (its sent deliveries stay for the record); listed again,
    it is active again. An unset ``secret_env`` is a warning: the plan still loads."""
    entries = []
    for position, spec in enumerate(plan.notify):
        values = {
            "kind": spec.kind,
            "secret_env": spec.secret_env,
            "url": spec.url,
            "webhook_secret_env": spec.webhook_secret_env,
            "events": list(spec.events),
            "priorities": list(spec.priorities),
            "tiers": list(spec.tiers),
            "position": position,
        }
        entries.append((spec.name, values))
        warn_unset_secret(
            logger,
            service=service,
            section="notify",
            name=spec.name,
            env=spec.secret_env,
            consequence="nothing is sent to it until it is",
        )
        if spec.webhook_secret_env:
            warn_unset_secret(
                logger,
                service=service,
                section="notify",
                name=spec.name,
                env=spec.webhook_secret_env,
                consequence="its PagerDuty webhook is refused (401) until it is",
            )
    apply_named_entries(Destination, service=service, entries=entries, now=now, report=report)


def paging_export_plan(*, service):
    rows = Destination.objects.filter(service=service, retired_at__isnull=True)
    entries = []
    for row in rows.order_by("position", "id"):
        entry = {"name": row.name, "kind": row.kind, "secret_env": row.secret_env}
        if row.url:
            entry["url"] = row.url
        if row.webhook_secret_env:
            entry["webhook_secret_env"] = row.webhook_secret_env
        entry["events"] = list(row.events)
        if row.priorities:
            entry["priorities"] = list(row.priorities)
        if row.tiers:
            entry["tiers"] = list(row.tiers)
        entries.append(entry)
    return {"notify": entries} if entries else {}
