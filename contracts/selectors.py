"""Reads of organisations, contracts and time. A customer reads only their own organisation."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from core.periods import month_bounds, month_of
from sla.models import ManagementContact, SupportContract

from .models import ContractPeriod, Organization, OrganizationMember, TimeEntry


def format_hours(minutes):
    """Minutes as hours with at most one decimal: 750 → "12.5", 1200 → "20", 20 → "0.3"."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{hours:f}".removesuffix(".0")


@dataclass(frozen=True)
class MonthUsage:
    """An organisation's support hours in one month, against the contract of that month."""

    organization: Organization
    month: date
    contract: SupportContract | None
    used_minutes: int

    @property
    def included_minutes(self):
        return self.contract.hours_per_month * 60 if self.contract else 0

    @property
    def percent(self):
        """Whole percent used, rounded down (79.9 % is not yet 80 %); None without hours."""
        if not self.included_minutes:
            return None
        return self.used_minutes * 100 // self.included_minutes

    @property
    def bar_percent(self):
        return min(self.percent or 0, 100)

    @property
    def level(self):
        """ "ok", "warning" (80 % reached) or "exhausted" (100 % reached): the bar's colour."""
        percent = self.percent or 0
        if percent >= 100:
            return "exhausted"
        return "warning" if percent >= 80 else "ok"

    @property
    def used_hours(self):
        return format_hours(self.used_minutes)

    @property
    def included_hours(self):
        return format_hours(self.included_minutes)

    @property
    def remaining_hours(self):
        return format_hours(max(self.included_minutes - self.used_minutes, 0))


def organization_of(*, user):
    """The organisation ``user`` belongs to, or None."""
    membership = (
        OrganizationMember.objects.filter(user_id=user.pk)
        .select_related("organization__service")
        .first()
    )
    return membership.organization if membership else None


def contract_in_force(*, organization, month):
    """The contract ``organization`` holds in ``month`` (first day), or None."""
    period = (
        ContractPeriod.objects.filter(organization=organization, starts_on__lte=month)
        .select_related("contract")
        .order_by("-starts_on")
        .first()
    )
    return period.contract if period else None


def organization_month_usage(*, organization, month):
    """One organisation's ``MonthUsage`` in ``month``: the list's reading of it, so a page and
    the usage emails cannot disagree on a figure."""
    return organizations_month_usage(organizations=[organization], month=month)[organization.pk]


def organizations_month_usage(*, organizations, month=None, now=None):
    """``{organization id: MonthUsage}`` for many organisations in a fixed number of queries.

    ``month`` None means each organisation's current month on its own service's clock. One
    query reads the contract history, and one aggregate per distinct (month, time zone) sums
    the minutes: a few queries however many organisations are listed.
    """
    organizations = list(organizations)
    if not organizations:
        return {}
    now = now or timezone.now()
    months = {org.pk: month or month_of(now, org.service.timezone) for org in organizations}
    contracts = {}
    periods = (
        ContractPeriod.objects.filter(
            organization__in=[org.pk for org in organizations],
            starts_on__lte=max(months.values()),
        )
        .select_related("contract")
        .order_by("organization_id", "-starts_on")
    )
    for period in periods:
        org_id = period.organization_id
        if org_id not in contracts and period.starts_on <= months[org_id]:
            contracts[org_id] = period.contract
    groups = defaultdict(list)
    for org in organizations:
        groups[(months[org.pk], org.service.timezone)].append(org.pk)
    minutes = {}
    for (group_month, tz), ids in groups.items():
        start, end = month_bounds(group_month, tz)
        rows = (
            TimeEntry.objects.filter(
                organization__in=ids,
                voided_at__isnull=True,
                worked_at__gte=start,
                worked_at__lt=end,
            )
            .order_by()
            .values("organization")
            .annotate(total=Sum("minutes"))
        )
        minutes.update({row["organization"]: row["total"] for row in rows})
    return {
        org.pk: MonthUsage(
            organization=org,
            month=months[org.pk],
            contract=contracts.get(org.pk),
            used_minutes=minutes.get(org.pk, 0),
        )
        for org in organizations
    }


def contract_usage_for_customer(*, user, now=None):
    """This month's usage of the signed-in customer's own organisation; None when they have
    no organisation or it holds no contract this month."""
    if not user.is_authenticated:
        return None
    organization = organization_of(user=user)
    if organization is None:
        return None
    month = month_of(now or timezone.now(), organization.service.timezone)
    usage = organization_month_usage(organization=organization, month=month)
    return usage if usage.contract is not None else None


def time_entries_for_ticket(*, ticket):
    return (
        TimeEntry.objects.filter(ticket=ticket)
        .select_related("staff", "voided_by")
        .order_by("worked_at", "id")
    )


@dataclass(frozen=True)
class Recipient:
    key: str  # names the person in the outbox key: "member:12", "contact:3"
    email: str
    name: str
    is_staff: bool


def usage_alert_recipients(*, organization):
    """Who hears that the organisation's hours run out: its members, and the people of its
    service's management chain (who sell and plan the hours). One address gets one email."""
    recipients, seen = [], set()

    def add(key, email, name, is_staff):
        if email and email.lower() not in seen:
            seen.add(email.lower())
            recipients.append(Recipient(key=key, email=email, name=name, is_staff=is_staff))

    members = (
        OrganizationMember.objects.filter(organization=organization, user__is_active=True)
        .select_related("user")
        .order_by("id")
    )
    for membership in members:
        user = membership.user
        add(f"member:{user.pk}", user.email, user.get_full_name(), False)
    contacts = (
        ManagementContact.objects.filter(service_id=organization.service_id)
        .filter(Q(user__isnull=True) | Q(user__is_active=True))
        .select_related("user")
        .order_by("id")
    )
    for contact in contacts:
        name = contact.user.get_full_name() if contact.user_id else ""
        add(f"contact:{contact.pk}", contact.address, name or contact.role, True)
    return recipients
