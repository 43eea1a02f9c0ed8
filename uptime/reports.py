"""The monthly uptime report and the status page's 90-day bars, built from a fixed number of
queries (``selectors``) and the pure availability math (``availability``).

Days and months are the service's local ones (``core.periods``). Per-priority availability: a plan
that promises an uptime per priority (XSafe ERP: P0 99.99 %, P1 99.9 %, P2 99.5 %) is read as
"the service is up at level Pk while no outage of severity Pk or more urgent lasts". The row of
Pk counts the outages of Pk and of every priority above it, so a P0 outage (system down) also
counts against P1 and P2, and a P2 outage only against P2.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from core import periods
from core.zones import local_date

from . import selectors
from .availability import Availability, measure, merge, minutes, overlapping
from .figures import day_text, minutes_text, percent_text

STATUS_DAYS = 90

# The colour of a day on the status page, by its availability: 100 %, then at most ~14 minutes
# of a 24-hour day down (99 %), at most ~72 minutes (95 %), more.
LEVELS = ((Decimal(100), "up"), (Decimal(99), "minor"), (Decimal(95), "partial"))
LEVEL_BELOW = "major"


def level(percent):
    for floor, name in LEVELS:
        if percent >= floor:
            return name
    return LEVEL_BELOW


@dataclass(frozen=True)
class TargetRow:
    """One line of the report: a scope's availability against its target and budget."""

    label: str
    scope: str
    availability: Availability
    target: Decimal | None
    state: str  # met · missed · on-track (month not over, budget not blown) · no-target
    strict: bool = False  # the plan wrote "> 99.9": availability exactly on it is missed

    @property
    def budget(self):
        return None if self.target is None else self.availability.budget(self.target)

    @property
    def left(self):
        """Budget left: negative once the downtime has gone past it."""
        return None if self.target is None else self.budget - self.availability.downtime

    @property
    def budget_minutes(self):
        return None if self.target is None else minutes(self.budget)

    @property
    def left_minutes(self):
        return None if self.target is None else minutes(self.left)


def _row(*, label, scope, availability, target, period_over, strict=False):
    if target is None:
        state = "no-target"
    elif not _meets(availability, target, strict):
        state = "missed"  # downtime only grows: a budget blown stays blown
    else:
        state = "met" if period_over else "on-track"
    return TargetRow(label, scope, availability, target, state, strict)


def _meets(availability, target, strict):
    """At least ``target`` percent; strictly more when the plan said "> 99.9 %" (a month
    down exactly its budget is then missed). No downtime always meets."""
    if not strict:
        return availability.meets(target)
    return not availability.downtime or availability.percent > Decimal(target)


@dataclass
class ServiceMonth:
    service: object
    period: periods.Period
    overall: TargetRow
    priorities: list = field(default_factory=list)
    outages: int = 0


def monthly_report(*, services, first, now, kind=periods.MONTH):
    """Per service, its month holding ``first`` (a date, the 1st) in the service's zone; or
    its quarter or year (``kind``: the period reports' quarter and yearly downtime budget)."""
    services = list(services)
    bounds = {s.pk: periods.containing(kind, first, s.timezone) for s in services}
    if not services:
        return []
    start = min(p.start for p in bounds.values())
    end = max(p.end for p in bounds.values())
    ids = [s.pk for s in services]
    outages = selectors.outages_by_service(service_ids=ids, start=start, end=end)
    planned = selectors.planned_maintenance_by_service(services=services, start=start, end=end)
    overall = selectors.overall_targets(service_ids=ids)
    by_priority = selectors.priority_targets(service_ids=ids)
    report = []
    for service in services:
        period = bounds[service.pk]
        own = [o for o in outages.get(service.pk, ()) if _overlaps(o, period, now)]
        maintenance = planned.get(service.pk, ())
        over = period.end <= now
        row = ServiceMonth(
            service=service,
            period=period,
            overall=_row(
                label="Overall",
                scope="all outages",
                availability=_measure(period, own, maintenance, now),
                target=overall.get(service.pk, (None, False))[0],
                period_over=over,
                strict=overall.get(service.pk, (None, False))[1],
            ),
            outages=len(own),
        )
        for priority in by_priority.get(service.pk, ()):
            row.priorities.append(
                _row(
                    label=f"{priority.code} — {priority.name}",
                    scope=f"outages of severity {priority.code} or more urgent",
                    availability=_measure(
                        period,
                        [o for o in own if o.severity_position <= priority.position],
                        maintenance,
                        now,
                    ),
                    target=priority.uptime,
                    period_over=over,
                )
            )
        report.append(row)
    return report


def _measure(period, outages, maintenance, now):
    return measure(
        start=period.start,
        end=period.end,
        outages=[(o.started_at, o.resolved_at) for o in outages],
        maintenance=maintenance,
        now=now,
    )


def _overlaps(outage, period, now):
    ended = outage.resolved_at if outage.resolved_at is not None else now
    return outage.started_at < period.end and ended > period.start and outage.started_at < now


@dataclass(frozen=True)
class DayCell:
    day: date
    availability: Availability
    level: str
    today: bool

    @property
    def label(self):
        """What the day's cell says: the title on the bar, a line of the text alternative."""
        figure = self.availability
        text = (
            f"{day_text(self.day)}{' (today, so far)' if self.today else ''}: "
            f"{percent_text(figure.percent)} % available, "
            f"{minutes_text(figure.downtime_minutes)} min down"
        )
        if figure.planned:
            text += f", {minutes_text(figure.planned_minutes)} min planned maintenance"
        return text


@dataclass
class ServiceBar:
    service: object
    cells: list
    summary: Availability  # the whole run of days

    @property
    def down_days(self):
        """The days with downtime, newest first: the bar's text alternative lists them."""
        return [cell for cell in reversed(self.cells) if cell.availability.downtime]


def status_bars(*, services, now, days=STATUS_DAYS):
    """Per service: one cell per local day, the last ``days`` of them ending today."""
    services = list(services)
    if not services:
        return []
    runs = {}
    for service in services:
        today = local_date(now, service.timezone)
        first = today - timedelta(days=days - 1)
        runs[service.pk] = list(periods.between(periods.DAY, first, today, service.timezone))
    start = min(run[0].start for run in runs.values())
    end = max(run[-1].end for run in runs.values())
    ids = [s.pk for s in services]
    outages = selectors.outages_by_service(service_ids=ids, start=start, end=end)
    planned = selectors.planned_maintenance_by_service(services=services, start=start, end=end)
    bars = []
    for service in services:
        # Merged once (an open outage ends now); each day then bisects to its own spans.
        spans = merge(
            (o.started_at, min(o.resolved_at or now, now)) for o in outages.get(service.pk, ())
        )
        maintenance = merge(planned.get(service.pk, ()))
        run = runs[service.pk]
        cells = []
        for period in run:
            figure = measure(
                start=period.start,
                end=period.end,
                outages=overlapping(spans, period.start, period.end),
                maintenance=overlapping(maintenance, period.start, period.end),
                now=now,
            )
            cells.append(DayCell(period.first, figure, level(figure.percent), period is run[-1]))
        summary = measure(
            start=run[0].start, end=run[-1].end, outages=spans, maintenance=maintenance, now=now
        )
        bars.append(ServiceBar(service, cells, summary))
    return bars
