"""Write a service back out as a plan file: the data tree of its rows, then YAML.

Loading the exported file gives the same rows (and validates to the same ``Plan`` as the file
it came from); retired priorities, inactive windows and retired tasks are left out.
"""

from decimal import Decimal

import yaml

from . import rules, sections
from .spec import ALWAYS_OPEN, SECTIONS


def plain_number(value):
    """``Decimal`` → ``int`` or ``float`` (YAML has no decimals); ``None`` stays."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def service_export_tree(*, service):
    """The whole plan of ``service`` as plain data, sections in the documented order."""
    tree = _sla_tree(service)
    for section in sections.registered():
        tree.update(section.export(service=service))
    return {key: tree[key] for key in SECTIONS if key in tree}


def service_export_yaml(*, service):
    header = (
        f"# Plan of {service.name}, exported from the support portal.\n"
        f"# Load with: python manage.py load_plan {service.slug}.yaml (docs/plans.md)\n"
    )
    return header + dump(service_export_tree(service=service))


def dump(tree):
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=100)


def _sla_tree(service):
    tree = {"service": {"slug": service.slug, "name": service.name, "timezone": service.timezone}}
    if service.contact:
        tree["service"]["contact"] = service.contact
    if service.inbound:
        tree["service"]["inbound"] = list(service.inbound)
    if service.phone:
        tree["service"]["phone"] = service.phone
    calendars = {}
    names = {}
    for calendar in service.calendars.prefetch_related("holidays"):
        names[calendar.pk] = calendar.name
        if calendar.name == ALWAYS_OPEN:
            continue
        entry = {"timezone": calendar.timezone, "hours": rules.week_to_spec(calendar.hours)}
        holidays = [
            {"date": holiday.date, "name": holiday.name} if holiday.name else holiday.date
            for holiday in calendar.holidays.all()
        ]
        if holidays:
            entry["holidays"] = holidays
        calendars[calendar.name] = entry
    if calendars:
        tree["calendars"] = calendars
    tree["priorities"] = [
        _without_empty(
            {
                "code": priority.code,
                "name": priority.name,
                "description": priority.description,
                "response": priority.response,
                "resolution": priority.resolution or None,
                "calendar": names.get(priority.calendar_id, ALWAYS_OPEN),
                "uptime": plain_number(priority.uptime),
                "start_tier": priority.start_tier,
                "notify_management": priority.notify_management,
            },
            keep=("resolution", "uptime"),
        )
        for priority in service.priorities.filter(retired_at__isnull=True).order_by("position")
    ]
    tree["tiers"] = [
        _without_empty(
            {
                "level": tier.level,
                "name": tier.name,
                "scope": tier.scope,
                "contact": tier.contact,
                "calendar": names.get(tier.calendar_id, ALWAYS_OPEN),
                "pickup": tier.pickup or None,
                "on_call": tier.on_call,
            }
        )
        for tier in service.tiers.order_by("level")
    ]
    policy = getattr(service, "escalation_policy", None)
    if policy is not None:
        warn_at = plain_number(policy.warn_at)
        tree["escalation"] = {
            "warn_at": f"{warn_at}%" if warn_at is not None else None,
            "management_chain": _management_chain(service, policy),
            **(
                {"management_interval": policy.management_interval}
                if policy.management_interval
                else {}
            ),
            "pause_statuses": list(policy.pause_statuses),
        }
        if policy.on_call_handoff:
            tree["on_call"] = {
                "handoff": policy.on_call_handoff,
                "layers": list(policy.on_call_layers),
            }
            if policy.on_call_acknowledge:
                tree["on_call"]["acknowledge"] = policy.on_call_acknowledge
    incidents = getattr(service, "incident_policy", None)
    if incidents is not None:
        tree["incidents"] = {
            "postmortem_due": incidents.postmortem_due or None,
            "steps": list(incidents.steps),
        }
    contracts = [
        {
            "name": contract.name,
            "hours_per_month": contract.hours_per_month,
            "monthly_cost": plain_number(contract.monthly_cost),
            "currency": contract.currency,
            **({"includes": contract.includes} if contract.includes else {}),
        }
        for contract in service.contracts.filter(retired_at__isnull=True).order_by("position")
    ]
    if contracts:
        tree["contracts"] = contracts
    targets = getattr(service, "targets", None)
    if targets is not None:
        values = {
            "uptime": plain_number(targets.uptime),
            "mttr": targets.mttr,
            "mtbf": targets.mtbf,
            "first_response_avg": targets.first_response_avg,
            "resolution_rate": plain_number(targets.resolution_rate),
            "csat": plain_number(targets.csat),
            "rto": targets.rto,
            "rpo": targets.rpo,
            "p95_response_ms": targets.p95_response_ms,
            "error_rate": plain_number(targets.error_rate),
            "concurrent_users": targets.concurrent_users,
        }
        # Strict targets go out as the plan worded them: "<4h", ">95".
        worded = {
            name: rules.target_text(name, value, strict=targets.is_strict(name) and value != "")
            for name, value in values.items()
        }
        tree["targets"] = _without_empty(
            {**worded, "recovery": [_without_empty(item) for item in targets.recovery]}
        )
    return tree


def _management_chain(service, policy):
    """The chain as the plan writes it: ``{role, email}`` for a role the plan gave an address."""
    owned = {
        contact.role: contact.email
        for contact in service.management_contacts.filter(from_plan=True).order_by("id")
    }
    return [
        {"role": role, "email": owned[role]} if role in owned else role
        for role in policy.management_chain
    ]


def _without_empty(mapping, keep=()):
    """Drop keys whose value is empty or null (the plan's defaults), except those in ``keep``."""
    return {
        key: value
        for key, value in mapping.items()
        if key in keep or not (value is None or value is False or value in ("", []))
    }
