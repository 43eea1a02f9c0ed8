"""Reads of the SLA side: tiers, policies, on-call and management contacts, loaded per batch.

``Rosters`` loads everything a sweep needs about a set of services in a fixed number of
queries (whatever the number of tickets or services), so a batch of escalations costs the same
whether it touches one service or fifty.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef

from accounts.roles import TIER_LEVELS, TOP_TIER, tier_group_name, tier_members

from .durations import parse_duration
from .models import (
    EscalationPolicy,
    ManagementContact,
    OnCallMember,
    OnCallOverride,
    Service,
    StaffService,
    Tier,
)
from .on_call import on_call_for
from .plan import rules

DEFAULT_PAUSE_STATUSES = ("waiting_on_customer",)


def customer_services(user):
    """The services ``user`` may file tickets for, by name: one query per request.

    The banner, the page and its forms all ask; the answer is kept on the request's user object
    (a fresh object each request), so a membership change shows on the next page.
    """
    if not user.is_authenticated:
        return []
    services = getattr(user, "_customer_services", None)
    if services is None:
        services = list(Service.objects.filter(memberships__customer=user).order_by("name"))
        user._customer_services = services
    return services


def staff_service_ids(user):
    """The services a staff member is limited to, as a set of ids; None when they work all.

    Superusers and members without a ``StaffService`` row work every service. Kept on the
    user object (a fresh one each request), so a page asks once however many lists it scopes.
    """
    if user.is_superuser:
        return None
    cached = getattr(user, "_staff_service_ids", False)
    if cached is not False:
        return cached
    ids = set(StaffService.objects.filter(user=user).values_list("service_id", flat=True))
    user._staff_service_ids = ids or None
    return user._staff_service_ids


def limit_to_staff_services(queryset, *, user, field="service"):
    """``queryset`` narrowed to the services ``user`` works (``field`` names the service)."""
    ids = staff_service_ids(user)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{field}__in": ids})


def works_service(service_id):
    """A filter of users: those who work the service (no limit, or limited to it among others)."""
    scopes = StaffService.objects.filter(user=OuterRef("pk"))
    return ~Exists(scopes) | Exists(scopes.filter(service_id=service_id))


def service_tier_members(service_id, level):
    """Active staff of tier ``level`` who work the service: those hear of its tickets."""
    return tier_members(level).filter(works_service(service_id))


def pause_statuses(policy):
    """Statuses that stop a service's resolution timer (the plan's, else waiting on customer)."""
    if policy is None:
        return set(DEFAULT_PAUSE_STATUSES)
    return set(policy.pause_statuses or ())


def management_interval(policy):
    if policy is None or not policy.management_interval:
        return None
    return parse_duration(policy.management_interval)


class Rosters:
    """Tiers, policies, on-call rotations and tier members for some services, at one moment."""

    def __init__(self, service_ids, *, at: datetime, management=False):
        self.at = at
        ids = set(service_ids)
        self.tiers = {
            (tier.service_id, tier.level): tier
            for tier in Tier.objects.filter(service_id__in=ids).select_related(
                "calendar", "service"
            )
        }
        self.policies = {
            policy.service_id: policy
            for policy in EscalationPolicy.objects.filter(service_id__in=ids)
        }
        self._rotation = defaultdict(list)
        for member in (
            OnCallMember.objects.filter(service_id__in=ids)
            .select_related("user")
            .order_by("position", "id")
        ):
            if member.user.is_active and member.user.email:
                self._rotation[(member.service_id, member.tier_level)].append(member.user)
        self._overrides = defaultdict(list)
        for override in OnCallOverride.objects.filter(
            service_id__in=ids, starts_at__lte=at, ends_at__gt=at
        ).select_related("user"):
            self._overrides[(override.service_id, override.tier_level)].append(override)
        self._members = defaultdict(list)
        names = {tier_group_name(level): level for level in TIER_LEVELS}
        for user in (
            get_user_model()
            .objects.filter(is_active=True, is_staff=True, groups__name__in=list(names))
            .exclude(email="")
            .annotate(group_name=F("groups__name"))
            .order_by("pk")
        ):
            self._members[names[user.group_name]].append(user)
        # Each member's services (none: every service), so a tier's email reaches only the
        # members who may open the ticket it is about.
        self._scopes = defaultdict(set)
        for user_id, service_id in StaffService.objects.filter(
            user__is_active=True, user__is_staff=True
        ).values_list("user_id", "service_id"):
            self._scopes[user_id].add(service_id)
        self._contacts = defaultdict(list)
        if management:
            for contact in ManagementContact.objects.filter(service_id__in=ids).select_related(
                "user"
            ):
                if contact.address:
                    self._contacts[(contact.service_id, contact.role)].append(contact.address)

    def tier(self, service_id, level):
        return self.tiers.get((service_id, level))

    def top_tier(self, service_id):
        """The highest tier of the service's plan (never above the staff groups' top)."""
        levels = [level for (sid, level) in self.tiers if sid == service_id]
        return min(max(levels), TOP_TIER) if levels else TOP_TIER

    def policy(self, service_id):
        return self.policies.get(service_id)

    def on_call(self, service_id, level):
        """``{layer: user}`` for an on-call tier now; empty when it has no rotation."""
        policy = self.policy(service_id)
        members = self._rotation.get((service_id, level), [])
        overrides = self._overrides.get((service_id, level), [])
        if not members and not overrides:
            return {}
        tier = self.tier(service_id, level)
        zone = tier.service.timezone if tier is not None else "UTC"
        # An empty handoff or layer list falls back to on_call's defaults.
        return on_call_for(
            members,
            policy.on_call_handoff if policy else "",
            zone,
            self.at,
            overrides,
            policy.on_call_layers if policy else (),
        )

    def recipients(self, service_id, level):
        """Who hears of a ticket in this tier: its on-call people when the tier is on call (and
        has a rotation), else every member of the tier's staff group."""
        tier = self.tier(service_id, level)
        if tier is not None and tier.on_call:
            people = list(self.on_call(service_id, level).values())
            policy = self.policy(service_id)
            if policy is not None and policy.on_call_acknowledge:
                # The primary first; the secondary only if unacknowledged (paging.oncall).
                people = people[:1]
            if people:
                unique = {user.pk: user for user in people}
                return list(unique.values())
        return [
            user
            for user in self._members.get(level, [])
            if not self._scopes.get(user.pk) or service_id in self._scopes[user.pk]
        ]

    def management(self, service_id, role):
        """Email addresses of the people holding ``role`` in the service's management chain."""
        return sorted(set(self._contacts.get((service_id, role), [])))


# --- the support page of a service (what a customer may rely on, as the plan states it) ------

_DAY_NAMES = {
    "mon": "Mon",
    "tue": "Tue",
    "wed": "Wed",
    "thu": "Thu",
    "fri": "Fri",
    "sat": "Sat",
    "sun": "Sun",
}
_UNIT_NAMES = {"m": "minute", "h": "hour", "d": "day", "w": "week", "bd": "business day"}
_DURATION = re.compile(r"^(\d+)\s*(bd|m|h|d|w)$")


def calendar_hours_text(calendar):
    """``Mon–Fri 09:00–18:00 (America/New_York)``; ``around the clock`` for 24/7 (or none)."""
    if calendar is None or calendar.is_always_open:
        return "around the clock"
    parts = []
    for days, spans in rules.week_to_spec(calendar.hours).items():
        label = "–".join(_DAY_NAMES[day] for day in days.split("-"))
        spans = [spans] if isinstance(spans, str) else spans
        parts.append(f"{label} {', '.join(span.replace('-', '–') for span in spans)}")
    return f"{'; '.join(parts)} ({calendar.timezone})"


def duration_text(text):
    """A plan duration in words: ``15m`` → ``15 minutes``, ``2bd`` → ``2 business days``."""
    match = _DURATION.match((text or "").strip())
    if not match:
        return text or ""
    count, unit = int(match[1]), _UNIT_NAMES[match[2]]
    return f"{count} {unit}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class PhoneLine:
    number: str
    who: str  # "Support line", "Tier 3 — Engineering Support"
    hours: str


@dataclass(frozen=True)
class SupportSheet:
    """A service's support promises as its plan states them, for the support page."""

    service: Service
    addresses: list  # where mail opens (or reaches) a ticket of this service
    phones: list  # PhoneLine
    tiers: list  # (tier, hours text)
    priorities: list  # current priorities, most urgent first


def _tier_hours(tier, priorities):
    """The tier's calendar, and "around the clock for P1" where a 24/7 priority starts in it
    (Roofing's Tier 3: business hours, 24/7 for critical issues)."""
    hours = calendar_hours_text(tier.calendar)
    if tier.calendar is None or tier.calendar.is_always_open:
        return hours
    always = [
        p.code
        for p in priorities
        if p.start_tier == tier.level and (p.calendar is None or p.calendar.is_always_open)
    ]
    if always:
        hours += f"; around the clock for {', '.join(always)}"
    return hours


def service_support_sheet(*, slug):
    """The support sheet of the service ``slug`` (three queries); ``Service.DoesNotExist``
    for an unknown slug."""
    service = Service.objects.get(slug=slug)
    priorities = list(
        service.priorities.filter(retired_at__isnull=True)
        .select_related("calendar")
        .order_by("position")
    )
    tiers = list(service.tiers.select_related("calendar").order_by("level"))
    addresses = [service.contact, *(service.inbound or ())]
    phones = []
    for tier in tiers:
        hours = _tier_hours(tier, priorities)
        for item in (part.strip() for part in (tier.contact or "").split(",")):
            if not item:
                continue
            if "@" in item:
                addresses.append(item)
            else:
                phones.append(PhoneLine(item, f"Tier {tier.level} — {tier.name}", hours))
    if service.phone:
        staffed = next((line for line in phones if service.phone in line.number), None)
        phones = [line for line in phones if line is not staffed]
        phones.insert(
            0,
            PhoneLine(
                service.phone,
                "Support line" + (f" ({staffed.who})" if staffed else ""),
                staffed.hours if staffed else "hours not stated in the plan",
            ),
        )
    unique = list(dict.fromkeys(address for address in addresses if address))
    return SupportSheet(
        service=service,
        addresses=unique,
        phones=phones,
        tiers=[(tier, _tier_hours(tier, priorities)) for tier in tiers],
        priorities=priorities,
    )
