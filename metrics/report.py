"""The success-metrics report of one service and period, from the selectors' aggregate rows.

The definitions (docs/operations.md, "Success metrics dashboard"):

- Tickets *opened* in the period (``created_at`` in it) are the cohort for SLA compliance, mean
  time to first response and resolution rate: each ticket counts in exactly one period, the one
  it was opened in, however late it is answered or resolved.
- Tickets *resolved* in the period (``resolved_at`` in it) give MTTR and CSAT: a repair time is
  known only once it is over, and customers rate a ticket when it is resolved.
- Times are wall clock (real elapsed time); SLA compliance is where business hours count.
- MTTR is compared with the plan's target for the most urgent priority ("MTTR < 4 hours for
  critical issues"); the mean over all priorities is shown beside it.
- MTBF = time observed ÷ outage incidents started in the period (start to start, the repair
  included), the time observed being the period up to now. No outage: nothing failed, and the
  target is met; a period not yet begun has no MTBF.
"""

from dataclasses import dataclass, field, fields
from datetime import timedelta

from core.snapshots import run_in_one_snapshot

from . import selectors, services
from .figures import (
    COUNT,
    MET,
    MINUTES,
    NO_TARGET,
    PERCENT,
    SCORE,
    Figure,
    duration_target,
    figure,
    minutes,
    percent,
    percent_target,
    score,
    score_target,
    show_minutes,
)


@dataclass
class Tally:
    """Sums over any set of (week, priority) rows; the means are derived, never averaged."""

    opened: int = 0
    responded: int = 0
    response_time: timedelta = timedelta(0)
    responses_met: int = 0
    responses_missed: int = 0
    responses_overdue: int = 0
    resolutions_met: int = 0
    resolutions_missed: int = 0
    resolutions_overdue: int = 0
    resolutions_running: int = 0
    resolved_since: int = 0
    resolved: int = 0
    resolve_time: timedelta = timedelta(0)
    rated: int = 0
    rating_sum: int = 0

    def add(self, row):
        for name in _TALLY_FIELDS:
            value = row.get(name)
            if value is not None:
                setattr(self, name, getattr(self, name) + value)

    @property
    def response_judged(self):
        return self.responses_met + self.responses_missed + self.responses_overdue

    @property
    def response_running(self):
        return self.opened - self.response_judged

    @property
    def resolution_judged(self):
        return self.resolutions_met + self.resolutions_missed + self.resolutions_overdue


_TALLY_FIELDS = [f.name for f in fields(Tally)]


@dataclass
class PriorityRow:
    label: str
    figures: dict  # key → Figure, in column order


@dataclass
class WeekRow:
    monday: object
    label: str
    partial: bool
    opened: Figure
    resolved: Figure


@dataclass
class Report:
    service: object
    period: object
    now: object
    targets: list  # figures judged against the plan's targets
    volume: list  # figures without a target
    priorities: list  # PriorityRow per priority, then the "All priorities" row
    weeks: list = field(default_factory=list)

    @property
    def in_progress(self):
        return self.period.start <= self.now < self.period.end

    def rows(self):
        """Every figure of the page as (section, scope, Figure), in page order: the CSV."""
        for item in self.targets:
            yield "targets", "", item
        for item in self.volume:
            yield "volume", "", item
        for row in self.priorities:
            for item in row.figures.values():
                yield "priority", row.label, item
        for week in self.weeks:
            yield "week", week.label, week.opened
            yield "week", week.label, week.resolved


def build_report(*, service, period, now):
    """The report: seven queries (targets, priorities, the rollup's status, two over the
    rollup, one over the tickets due after ``now``, one over incidents), and six more to
    refresh the rollup when tickets changed since it was last read; plus, when it opens the
    transaction on PostgreSQL, the statement that makes it REPEATABLE READ.

    All in one snapshot: the rollup's counts of running timers and the live count of those
    due after ``now`` must see the same tickets (a ticket committed between the two reads
    would be subtracted without having been counted), and the refresh must aggregate the
    tickets the reads then see.
    """
    return run_in_one_snapshot(lambda: _report(service, period, now))


def _report(service, period, now):
    zone, stale = selectors.rollup_status(service)
    if stale or zone != service.timezone:
        services.rollup_refresh(service=service, rebuild=zone != service.timezone)
    targets = selectors.targets_of(service)
    priorities = selectors.priorities_of(service)
    opened = selectors.rollup_opened_by_week(service=service, period=period, now=now)
    resolved = selectors.rollup_resolved_by_week(service=service, period=period)
    outages = selectors.outages_started(service=service, period=period)

    total, by_priority, by_week = Tally(), {}, {}
    for row in [*opened, *resolved]:
        total.add(row)
        by_priority.setdefault(row["priority_id"], Tally()).add(row)
        by_week.setdefault(row["week"], Tally()).add(row)

    current = [p for p in priorities if p.retired_at is None]
    shown = [p for p in priorities if p.retired_at is None or p.pk in by_priority]
    most_urgent = current[0] if current else None
    urgent_tally = by_priority.get(most_urgent.pk, Tally()) if most_urgent else Tally()

    return Report(
        service=service,
        period=period,
        now=now,
        targets=_target_figures(targets, total, urgent_tally, most_urgent, outages, period, now),
        volume=_volume_figures(total, outages),
        priorities=[
            *(
                _priority_row(p.code + " — " + p.name, by_priority.get(p.pk, Tally()), p)
                for p in shown
            ),
            _priority_row("All priorities", total, None),
        ],
        weeks=[
            _week_row(monday, by_week.get(monday, Tally()), period) for monday in period.weeks()
        ],
    )


def _target_figures(targets, total, urgent, most_urgent, outages, period, now):
    def target(name, make, **kwargs):
        value = getattr(targets, name, None) if targets else None
        if value in (None, ""):
            return None
        return make(value, strict=targets.is_strict(name), **kwargs)

    urgent_label = f"{most_urgent.code} — {most_urgent.name}" if most_urgent else "no priority"
    return [
        figure(
            "first_response_avg",
            "Mean time to first response",
            minutes(total.response_time, total.responded),
            MINUTES,
            detail=f"{total.responded:,} of {total.opened:,} opened tickets answered",
            target=target("first_response_avg", duration_target, higher_is_better=False),
            judged=True,
        ),
        figure(
            "mttr",
            f"MTTR, {urgent_label} (most urgent priority)",
            minutes(urgent.resolve_time, urgent.resolved),
            MINUTES,
            detail=f"{urgent.resolved:,} resolved in the period",
            target=target("mttr", duration_target, higher_is_better=False),
            judged=True,
        ),
        _mtbf(
            outages["outages"], period, now, target("mtbf", duration_target, higher_is_better=True)
        ),
        figure(
            "resolution_rate",
            "Resolution rate",
            percent(total.resolved_since, total.opened),
            PERCENT,
            detail=f"{total.resolved_since:,} of {total.opened:,} opened tickets resolved",
            target=target("resolution_rate", percent_target),
            judged=True,
        ),
        figure(
            "csat",
            "Customer satisfaction (CSAT)",
            score(total.rating_sum, total.rated),
            SCORE,
            detail=f"{total.rated:,} rating{'s' if total.rated != 1 else ''}",
            target=target("csat", score_target),
            judged=True,
        ),
    ]


def _mtbf(count, period, now, mtbf_target):
    """Time observed ÷ outages started in it. The time observed is the period up to ``now``:
    counting the days still to come of a month in progress would flatter it (one outage on
    the 2nd is not 720 h between failures on the 3rd)."""
    observed = max(min(now, period.end) - period.start, timedelta(0))
    observed_text = show_minutes(observed.total_seconds() // 60)
    label = "MTBF (outage incidents)"
    if count:
        return figure(
            "mtbf",
            label,
            minutes(observed, count),
            MINUTES,
            detail=f"{count} outage{'s' if count != 1 else ''} in {observed_text}",
            target=mtbf_target,
            judged=True,
        )
    if not observed:
        return figure(
            "mtbf",
            label,
            None,
            MINUTES,
            detail="the period has not begun",
            target=mtbf_target,
            judged=True,
        )
    # Nothing failed: the mean gap is at least the time observed, and no target is missed.
    return Figure(
        "mtbf",
        label,
        None,
        MINUTES,
        "no outage",
        f"0 outages in {observed_text}",
        mtbf_target,
        MET if mtbf_target else NO_TARGET,
    )


def _volume_figures(total, outages):
    return [
        figure("opened", "Tickets opened", total.opened, COUNT),
        figure("resolved", "Tickets resolved", total.resolved, COUNT),
        figure(
            "mttr_all",
            "Mean time to resolve, all priorities",
            minutes(total.resolve_time, total.resolved),
            MINUTES,
        ),
        figure("outages", "Outage incidents started", outages["outages"], COUNT),
        figure(
            "restore_avg",
            "Mean outage duration (restored ones)",
            minutes(outages["restore_time"] or timedelta(0), outages["restored"]),
            MINUTES,
            detail=f"{outages['restored']} restored",
        ),
    ]


def _met_share(met, judged, running):
    detail = f"{met:,} of {judged:,}"
    if running:
        detail += f", {running:,} running"
    return percent(met, judged), detail


def _priority_row(label, tally, priority):
    response, response_detail = _met_share(
        tally.responses_met, tally.response_judged, tally.response_running
    )
    resolution, resolution_detail = _met_share(
        tally.resolutions_met, tally.resolution_judged, tally.resolutions_running
    )
    no_timer = priority is not None and not priority.resolution and not tally.resolution_judged
    items = [
        figure("opened", "Opened", tally.opened, COUNT),
        figure("response_met", "Response met", response, PERCENT, detail=response_detail),
        figure(
            "resolution_met",
            "Resolution met",
            resolution,
            PERCENT,
            detail="" if no_timer else resolution_detail,
            display="no timer" if no_timer else None,
        ),
        figure(
            "first_response_avg",
            "Mean first response",
            minutes(tally.response_time, tally.responded),
            MINUTES,
        ),
        figure("resolved", "Resolved", tally.resolved, COUNT),
        figure(
            "resolve_avg",
            "Mean time to resolve",
            minutes(tally.resolve_time, tally.resolved),
            MINUTES,
        ),
        figure(
            "csat",
            "CSAT",
            score(tally.rating_sum, tally.rated),
            SCORE,
            detail=f"{tally.rated:,} rated" if tally.rated else "",
        ),
    ]
    return PriorityRow(label, {item.key: item for item in items})


def _week_row(monday, tally, period):
    _, week, _ = monday.isocalendar()
    partial = monday < period.first or monday + timedelta(days=6) > period.last
    return WeekRow(
        monday,
        f"{monday:%Y-%m-%d} (W{week:02d})",
        partial,
        figure("opened", "Opened", tally.opened, COUNT),
        figure("resolved", "Resolved", tally.resolved, COUNT),
    )
