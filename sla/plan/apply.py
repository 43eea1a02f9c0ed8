"""Write a validated ``Plan`` to the database: idempotent, keyed on slug, codes, names, levels.

A row is saved only when a value differs (``save(update_fields=...)``), so loading the same file
twice writes nothing. What the file no longer lists is retired (priorities, kept for the tickets
that use them), or removed where nothing refers to it (tiers, calendars, holidays, contracts).
"""

import os
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from sla.models import (
    Calendar,
    EscalationPolicy,
    Holiday,
    IncidentPolicy,
    ManagementContact,
    Priority,
    Service,
    ServiceTargets,
    SupportContract,
    Tier,
)

from . import rules, sections
from .spec import ALWAYS_OPEN


@dataclass
class ApplyReport:
    """Rows created, updated, and retired (retired, deactivated or removed) by one load."""

    created: int = 0
    updated: int = 0
    retired: int = 0

    def __str__(self):
        return f"created {self.created}, updated {self.updated}, retired {self.retired}"

    @property
    def changed(self):
        return bool(self.created or self.updated or self.retired)


def sync(instance, values, report):
    """Set ``values`` on an existing row and save only the fields that changed."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(instance, name, values[name])
    if any(field.name == "updated_at" for field in instance._meta.concrete_fields):
        changed.append("updated_at")
    instance.save(update_fields=changed)
    report.updated += 1
    return True


def apply_named_entries(model, *, service, entries, now, report):
    """Make a service's rows of ``model`` match a plan list keyed on names: ``entries`` is
    ``[(name, values)]`` in plan order. A name no longer listed is retired (``retired_at``),
    not deleted, so what it recorded stays; listed again, it is active again."""
    existing = {row.name: row for row in model.objects.filter(service=service)}
    for name, values in entries:
        upsert(
            model,
            existing,
            name,
            {**values, "retired_at": None},
            report,
            service=service,
            name=name,
        )
        existing.pop(name, None)
    for row in existing.values():
        if row.retired_at is None:
            row.retired_at = now
            row.save(update_fields=["retired_at"])
            report.retired += 1


def warn_unset_secret(logger, *, service, section, name, env, consequence):
    """A plan names a secret's environment variable; the variable being unset is a warning
    (the plan still loads), never an error, and never shows a value."""
    if not os.environ.get(env):
        logger.warning(
            "%s: %s %r: environment variable %s is not set; %s",
            service.slug,
            section,
            name,
            env,
            consequence,
        )


def upsert(model, existing, key, values, report, **fixed):
    """Update ``existing[key]`` to ``values``, or create it with ``fixed`` and ``values``."""
    instance = existing.get(key)
    if instance is None:
        instance = model.objects.create(**fixed, **values)
        report.created += 1
    else:
        sync(instance, values, report)
    return instance


@transaction.atomic
def plans_apply(*, plans, now=None):
    """Apply every plan (sla's sections, then each registered app's) in one transaction.

    Returns ``[(slug, ApplyReport), ...]`` in the order of ``plans``.
    """
    _serialise_loads()
    now = now or timezone.now()
    results = []
    for plan in plans:
        report = ApplyReport()
        service = service_apply_plan(plan=plan, now=now, report=report)
        for section in sections.registered():
            section.apply(service=service, plan=plan, now=now, report=report)
        results.append((service.slug, report))
    return results


# Any fixed number: the lock's name among PostgreSQL advisory locks.
PLAN_LOAD_LOCK = 7_140_301


def _serialise_loads():
    """Two loads at once (two deploys, an operator and a deploy) take turns: each sees the
    other's rows instead of both inserting the same service and one failing on its slug.
    Held until the transaction ends; SQLite serialises writers by itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLAN_LOAD_LOCK])


def service_apply_plan(*, plan, now, report):
    """The ``sla`` part: service, calendars, priorities, tiers, escalation, on-call, and the
    incidents, contracts and targets sections (stored here until their own issues use them)."""
    spec = plan.service
    values = {
        "name": spec.name,
        "timezone": spec.timezone,
        "contact": spec.contact,
        "inbound": list(spec.inbound),
        "phone": spec.phone,
    }
    service = Service.objects.filter(slug=spec.slug).first()
    if service is None:
        service = Service.objects.create(slug=spec.slug, **values)
        report.created += 1
    else:
        sync(service, values, report)
    calendars = _apply_calendars(service, plan, report)
    _apply_priorities(service, plan, calendars, now, report)
    _apply_tiers(service, plan, calendars, report)
    _remove_calendars(service, plan, calendars, report)
    _apply_escalation(service, plan, report)
    _apply_incidents(service, plan, report)
    _apply_contracts(service, plan, now, report)
    _apply_targets(service, plan, report)
    return service


def _apply_calendars(service, plan, report):
    existing = {calendar.name: calendar for calendar in service.calendars.all()}
    result = {
        ALWAYS_OPEN: upsert(
            Calendar,
            existing,
            ALWAYS_OPEN,
            {"timezone": service.timezone, "hours": rules.always_open_week()},
            report,
            service=service,
            name=ALWAYS_OPEN,
        )
    }
    for spec in plan.calendars:
        calendar = upsert(
            Calendar,
            existing,
            spec.name,
            {"timezone": spec.timezone, "hours": spec.hours_dict},
            report,
            service=service,
            name=spec.name,
        )
        result[spec.name] = calendar
        holidays = {holiday.date: holiday for holiday in calendar.holidays.all()}
        for holiday in spec.holidays:
            upsert(
                Holiday,
                holidays,
                holiday.date,
                {"name": holiday.name},
                report,
                calendar=calendar,
                date=holiday.date,
            )
        listed = {holiday.date for holiday in spec.holidays}
        stale = [row.pk for day, row in holidays.items() if day not in listed]
        if stale:
            report.retired += Holiday.objects.filter(pk__in=stale).delete()[0]
    return result


def _remove_calendars(service, plan, calendars, report):
    stale = service.calendars.exclude(name__in=list(calendars))
    if not stale.exists():
        return
    # Retired priorities may still point at a calendar the plan dropped; they fall back to 24/7.
    Priority.objects.filter(service=service, calendar__in=stale).update(
        calendar=calendars[ALWAYS_OPEN], updated_at=timezone.now()
    )
    for calendar in stale:
        calendar.delete()
        report.retired += 1


def _apply_priorities(service, plan, calendars, now, report):
    existing = {priority.code: priority for priority in service.priorities.all()}
    for position, spec in enumerate(plan.priorities):
        upsert(
            Priority,
            existing,
            spec.code,
            {
                "name": spec.name,
                "description": spec.description,
                "response": spec.response,
                "resolution": spec.resolution or "",
                "calendar_id": calendars[spec.calendar].pk,
                "uptime": spec.uptime,
                "start_tier": spec.start_tier,
                "notify_management": spec.notify_management,
                "position": position,
                "retired_at": None,
            },
            report,
            service=service,
            code=spec.code,
        )
    listed = {spec.code for spec in plan.priorities}
    for code, priority in existing.items():
        # Retired, never deleted: tickets PROTECT-reference their priority.
        if code not in listed and priority.retired_at is None:
            priority.retired_at = now
            priority.save(update_fields=["retired_at", "updated_at"])
            report.retired += 1


def _apply_tiers(service, plan, calendars, report):
    existing = {tier.level: tier for tier in service.tiers.all()}
    for spec in plan.tiers:
        upsert(
            Tier,
            existing,
            spec.level,
            {
                "name": spec.name,
                "scope": spec.scope,
                "contact": spec.contact,
                "calendar_id": calendars[spec.calendar].pk,
                "pickup": spec.pickup or "",
                "on_call": spec.on_call,
            },
            report,
            service=service,
            level=spec.level,
        )
    listed = {spec.level for spec in plan.tiers}
    # Tickets hold a tier *level*, not a row, so a tier the plan dropped can go.
    for level, tier in existing.items():
        if level not in listed:
            tier.delete()
            report.retired += 1


def _apply_escalation(service, plan, report):
    spec, on_call = plan.escalation, plan.on_call
    existing = {
        policy.service_id: policy for policy in EscalationPolicy.objects.filter(service=service)
    }
    upsert(
        EscalationPolicy,
        existing,
        service.pk,
        {
            "warn_at": spec.warn_at,
            "management_chain": list(spec.management_chain),
            "management_interval": spec.management_interval or "",
            "pause_statuses": list(spec.pause_statuses),
            "on_call_handoff": on_call.handoff if on_call else "",
            "on_call_layers": list(on_call.layers) if on_call else [],
            "on_call_acknowledge": on_call.acknowledge if on_call else "",
        },
        report,
        service=service,
    )
    _apply_management_contacts(service, spec, report)


def _apply_management_contacts(service, spec, report):
    """The chain's ``{role, email}`` entries as the plan's own ``ManagementContact`` rows: one
    the file no longer names is removed, a new one created, an unchanged one left alone (so a
    second load writes nothing). Contacts staff added in admin are not the plan's and stay."""
    existing = {
        (row.role, row.email.lower()): row
        for row in ManagementContact.objects.filter(service=service, from_plan=True)
    }
    wanted = {
        (role, address.lower()): (role, address) for role, address in spec.management_contacts
    }
    stale = [row.pk for key, row in existing.items() if key not in wanted]
    if stale:
        report.retired += ManagementContact.objects.filter(pk__in=stale).delete()[0]
    for key, (role, address) in wanted.items():
        if key not in existing:
            ManagementContact.objects.create(
                service=service, role=role, email=address, from_plan=True
            )
            report.created += 1


def _one_to_one(model, service, values, report):
    """Keep the service's single ``model`` row equal to ``values``; ``None`` removes it."""
    existing = {row.service_id: row for row in model.objects.filter(service=service)}
    if values is None:
        if existing:
            existing[service.pk].delete()
            report.retired += 1
        return
    upsert(model, existing, service.pk, values, report, service=service)


def _apply_incidents(service, plan, report):
    spec = plan.incidents
    values = None
    if spec is not None:
        values = {"postmortem_due": spec.postmortem_due or "", "steps": list(spec.steps)}
    _one_to_one(IncidentPolicy, service, values, report)


def _apply_targets(service, plan, report):
    spec = plan.targets
    values = None
    if spec is not None:
        values = {
            "uptime": spec.uptime,
            "mttr": spec.mttr or "",
            "mtbf": spec.mtbf or "",
            "first_response_avg": spec.first_response_avg or "",
            "resolution_rate": spec.resolution_rate,
            "csat": spec.csat,
            "rto": spec.rto or "",
            "rpo": spec.rpo or "",
            "p95_response_ms": spec.p95_response_ms,
            "error_rate": spec.error_rate,
            "concurrent_users": spec.concurrent_users,
            "recovery": [
                {"name": item.name, "rto": item.rto, "rpo": item.rpo} for item in spec.recovery
            ],
            "strict": list(spec.strict),
        }
    _one_to_one(ServiceTargets, service, values, report)


def _apply_contracts(service, plan, now, report):
    existing = {contract.name: contract for contract in service.contracts.all()}
    for position, spec in enumerate(plan.contracts):
        upsert(
            SupportContract,
            existing,
            spec.name,
            {
                "hours_per_month": spec.hours_per_month,
                "monthly_cost": spec.monthly_cost,
                "currency": spec.currency,
                "includes": spec.includes,
                "position": position,
                "retired_at": None,
            },
            report,
            service=service,
            name=spec.name,
        )
    listed = {spec.name for spec in plan.contracts}
    for name, contract in existing.items():
        if name in listed or contract.retired_at is not None:
            continue
        try:
            contract.delete()
        except ProtectedError:
            # Organisations hold (or held) it: their months keep pointing at it.
            contract.retired_at = now
            contract.save(update_fields=["retired_at", "updated_at"])
        report.retired += 1
