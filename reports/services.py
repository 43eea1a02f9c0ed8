"""Period reports sent once each period is over: the sweep, and one report's recipients."""

from collections import Counter
from datetime import timedelta
from functools import partial

from django.db.models import Q

from contracts.models import OrganizationMember
from core import periods
from core.sweeps import sweep_due_rows
from core.zones import local_date
from sla.models import ManagementContact

from . import emails
from .contents import period_of, period_report
from .models import ReportSchedule

# A sweep catches up at most this many months per service per run (beat down for a year
# sends the last year, a month per run, not a burst of everything at once).
MAX_MONTHS_PER_RUN = 12


def reports_send_due(*, now, batch_size=20):
    """Send every report whose period has ended and that has not been sent.

    Safe to run twice, late or concurrently: the schedules are locked ``SKIP LOCKED``
    (``sweep_due_rows``), each email is an outbox row keyed by (report, period, recipient), and
    the deadline moves on in the same transaction as the rows are recorded.
    """
    return sweep_due_rows(
        ReportSchedule.objects.select_related("service"),
        due_field="next_report_at",
        now=now,
        batch_size=batch_size,
        handle=partial(_send_schedules, now=now),
    )


def _send_schedules(schedules, *, now):
    counts = Counter()
    for schedule in schedules:
        tz = schedule.service.timezone
        for _ in range(MAX_MONTHS_PER_RUN):
            if schedule.next_report_at > now:
                break
            # The month that ended at the deadline, and the quarter when it closes one.
            month = periods.first_of(
                local_date(schedule.next_report_at - timedelta(microseconds=1), tz)
            )
            for kind in schedule.kinds:
                period = period_of(kind, month, tz)
                if period is not None:
                    counts["emails"] += report_send(
                        schedule=schedule, kind=kind, period=period, now=now
                    )
                    counts["reports"] += 1
            schedule.last_month = month
            schedule.next_report_at = periods.containing(
                periods.MONTH, periods.next_month(month), tz
            ).end
        schedule.save(update_fields=["next_report_at", "last_month"])
    return counts


def report_send(*, schedule, kind, period, now):
    """Record one report's emails: the full report to the plan's management roles, and to each
    organisation holding a contract in the period (when the plan says so) a copy with only its
    own hours. One address gets one email (management's, when it is both)."""
    report = period_report(service=schedule.service, kind=kind, period=period, now=now)
    management = _management_addresses(schedule)
    created = emails.period_report(report, addresses=management, audience="management")
    if schedule.contract_holders:
        seen = {address.lower() for address in management}
        holders = {usage.organization.pk: usage.organization for usage in report.usage}
        members = (
            OrganizationMember.objects.filter(organization__in=holders, user__is_active=True)
            .exclude(user__email="")
            .order_by("organization_id", "id")
            .values_list("organization_id", "user__email")
        )
        by_organization = {}
        for organization_id, address in members:
            if address.lower() not in seen:
                seen.add(address.lower())
                by_organization.setdefault(organization_id, []).append(address)
        for organization_id, addresses in by_organization.items():
            created += emails.period_report(
                report.for_organization(organization_id),
                addresses=addresses,
                audience=holders[organization_id].name,
            )
    return created


def _management_addresses(schedule):
    contacts = (
        ManagementContact.objects.filter(service=schedule.service, role__in=schedule.roles)
        .filter(Q(user__isnull=True) | Q(user__is_active=True))
        .select_related("user")
        .order_by("id")
    )
    result, seen = [], set()
    for contact in contacts:
        address = contact.address
        if address and address.lower() not in seen:
            seen.add(address.lower())
            result.append(address)
    return result
