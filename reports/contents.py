"""The figures of one service's period report, read through the dashboards' own code.

Nothing here computes a figure a dashboard also shows: the success metrics are
``metrics.report.build_report`` (the dashboard and its CSV), availability and the downtime
budget are ``uptime.reports`` (the uptime page), contract hours ``contracts.selectors`` (the
organisation list and the usage emails). What no dashboard has — routine items and incidents
counted over the period — is two aggregate queries here.
"""

from dataclasses import dataclass, replace
from datetime import date

from django.db.models import Count, F, Q

from contracts.models import Organization
from contracts.selectors import organizations_month_usage
from core import periods
from incidents.models import Incident
from metrics.report import build_report
from routine.models import RoutineItem
from uptime.reports import monthly_report

KINDS = {"monthly": periods.MONTH, "quarterly": periods.QUARTER}


@dataclass(frozen=True)
class RoutineTally:
    due: int  # items whose period ended in the report's period
    on_time: int
    late: int  # done after the end of their period
    open: int  # not done (overdue: their period is over)


@dataclass(frozen=True)
class IncidentTally:
    opened: int
    outages: int
    resolved: int
    postmortems_due: int  # post-mortems due in the period
    postmortems_on_time: int
    postmortems_late: int  # completed after their due time
    postmortems_open: int  # not completed


@dataclass(frozen=True)
class PeriodReport:
    service: object
    kind: str  # "monthly" | "quarterly"
    period: periods.Period
    now: object
    metrics: object  # metrics.report.Report
    uptime: object  # uptime.reports.ServiceMonth of the period
    year: object  # uptime.reports.ServiceMonth of the year, up to the period's end: the budget
    usage: tuple  # contracts.selectors.MonthUsage per organisation holding a contract, per month
    routine: RoutineTally
    incidents: IncidentTally

    @property
    def title(self):
        return f"{self.service.name} — {self.period.label}"

    def for_organization(self, organization_id):
        """The copy a contract holder gets: only their own organisation's hours."""
        return replace(
            self,
            usage=tuple(u for u in self.usage if u.organization.pk == organization_id),
        )


def period_of(kind, month_first, tz):
    """The period of ``kind`` that the month starting ``month_first`` closes (or None: a
    quarterly report is due only with the quarter's last month)."""
    period = periods.containing(KINDS[kind], month_first, tz)
    return period if periods.first_of(period.last) == month_first else None


def period_report(*, service, kind, period, now):
    """The whole report of ``service`` over ``period`` as it stands at ``now``."""
    uptime = monthly_report(services=[service], first=period.first, now=now, kind=period.kind)
    year_first = date(period.first.year, 1, 1)
    # The year's budget: downtime up to the period's end against the whole year's allowance.
    year = monthly_report(
        services=[service], first=year_first, now=min(now, period.end), kind=periods.YEAR
    )
    return PeriodReport(
        service=service,
        kind=kind,
        period=period,
        now=now,
        metrics=build_report(service=service, period=period, now=now),
        uptime=uptime[0],
        year=year[0],
        usage=tuple(_usage(service, period, now)),
        routine=_routine(service, period),
        incidents=_incidents(service, period),
    )


def _usage(service, period, now):
    organizations = list(
        Organization.objects.filter(service=service).select_related("service").order_by("name")
    )
    month = period.first
    while month <= period.last:
        usage = organizations_month_usage(organizations=organizations, month=month, now=now)
        for organization in organizations:
            if usage[organization.pk].contract is not None:
                yield usage[organization.pk]
        month = periods.next_month(month)


def _routine(service, period):
    row = RoutineItem.objects.filter(
        service=service, due_at__gt=period.start, due_at__lte=period.end
    ).aggregate(
        due=Count("id"),
        on_time=Count("id", filter=Q(done_at__lte=F("due_at"))),
        late=Count("id", filter=Q(done_at__gt=F("due_at"))),
        open=Count("id", filter=Q(done_at__isnull=True)),
    )
    return RoutineTally(**row)


_due = F("postmortem_due_at")


def _incidents(service, period):
    in_period = Q(started_at__gte=period.start, started_at__lt=period.end)
    due = Q(postmortem_due_at__gte=period.start, postmortem_due_at__lt=period.end)
    row = Incident.objects.filter(service=service).aggregate(
        opened=Count("id", filter=in_period),
        outages=Count("id", filter=in_period & Q(outage=True)),
        resolved=Count("id", filter=Q(resolved_at__gte=period.start, resolved_at__lt=period.end)),
        postmortems_due=Count("id", filter=due),
        postmortems_on_time=Count("id", filter=due & Q(postmortem__completed_at__lte=_due)),
        postmortems_late=Count("id", filter=due & Q(postmortem__completed_at__gt=_due)),
        postmortems_open=Count("id", filter=due & Q(postmortem__completed_at__isnull=True)),
    )
    return IncidentTally(**row)
