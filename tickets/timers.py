"""A ticket's SLA timers: deadlines from its priority, pauses, stops, and what falls due when.

Called by the ticket services (inside their transaction, on the locked ticket) and by the
escalation sweep. The time arithmetic is ``sla.clock`` (pure); this module decides which
instants matter and stores them on the ticket. The rules, with examples, are in docs/sla.md.

- Response: due ``priority.response`` of open time (or business days) after creation, on the
  priority's calendar. Stopped by the first public staff reply (or by resolving/closing).
- Resolution: due ``priority.resolution`` after creation on the same calendar, pushed by the
  open time of every pause that began before the (pushed) deadline. A pause is time spent in a
  pause status or resolved/closed; reopening ends the pause, so the time already used counts.
- Warning: at ``warn_at`` percent of a timer's open time, pushed by pauses the same way.
- Pickup: a tier with ``pickup`` must assign or answer a ticket within that open time of the
  tier's calendar after the ticket entered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sla import clock
from sla.calendars import business_calendar
from sla.durations import Duration, parse_duration
from sla.models import EscalationPolicy, Tier
from sla.selectors import management_interval, pause_statuses

from . import lookups
from .models import Ticket, TimerOutcome

Status = Ticket.Status
STOPPED = frozenset({Status.RESOLVED, Status.CLOSED})
MAX_MANAGEMENT_ROLES = 5
# The ticket columns the timers own; services save them all whenever timers may have moved.
FIELDS = [
    "first_response_at",
    "response_due_at",
    "resolution_due_at",
    "response_met",
    "resolution_met",
    "response_warn_at",
    "resolution_warn_at",
    "paused_at",
    "sla_pauses",
    "tier_entered_at",
    "pickup_due_at",
    "next_due_at",
    "next_sla_check_at",
]

_STEP_RANK = {"warned": 0, "breached": 1}


@dataclass(frozen=True)
class DueStep:
    """Something the sweep must do for a ticket at ``at``; keyed by (timer, due_at, step)."""

    at: datetime
    timer: str
    due_at: datetime
    step: str

    @property
    def rank(self):
        return (self.at, _STEP_RANK.get(self.step, 2), self.step)


@dataclass
class Context:
    """What the timer rules of one ticket need besides the ticket: its calendar and policy."""

    calendar: clock.BusinessCalendar
    policy: EscalationPolicy | None

    @classmethod
    def load(cls, ticket):
        # Plan data: read once per batch of inbound mail (``lookups.read_once``).
        return lookups.once(
            ("timers.context", ticket.service_id, ticket.priority.calendar_id),
            lambda: cls(
                business_calendar(ticket.priority.calendar),
                EscalationPolicy.objects.filter(service_id=ticket.service_id).first(),
            ),
        )


# --- the pure part: deadlines from a start, durations and pauses ----------------------------


def pauses_of(ticket, *, closed_at: datetime | None = None):
    """The ticket's pauses as ``(start, end)`` pairs; an open pause ends at ``closed_at`` (or is
    left out when ``closed_at`` is None: a running pause has not moved anything yet)."""
    result = []
    for start, end, *_ in ticket.sla_pauses or ():
        start = datetime.fromisoformat(start)
        if end is None:
            if closed_at is None:
                continue
            end = closed_at
        else:
            end = datetime.fromisoformat(end)
        result.append((start, end))
    return sorted(result)


def pushed(cal, instant: datetime, pauses) -> datetime:
    """``instant`` moved later by the open time of each pause that began before it."""
    for start, end in pauses:
        if start < instant:
            instant = clock.add_open_time(cal, instant, clock.open_time_between(cal, start, end))
    return instant


def timer_deadlines(cal, start, duration: Duration, warn_percent, pauses=()):
    """``(due, warn)`` of a timer of ``duration`` started at ``start``; ``warn`` may be None."""
    due = clock.deadline(cal, start, duration)
    warn = None
    if warn_percent:
        length = clock.open_time_between(cal, start, due)
        share = timedelta(seconds=round(length.total_seconds() * float(warn_percent) / 100))
        warn = pushed(cal, clock.add_open_time(cal, start, share), pauses)
    return pushed(cal, due, pauses), warn


def open_delta(cal, due: datetime, finished: datetime) -> timedelta:
    """Open time from the deadline to the finish; negative when finished early."""
    if finished >= due:
        return clock.open_time_between(cal, due, finished)
    return -clock.open_time_between(cal, finished, due)


# --- what the services call ------------------------------------------------------------------


def start(ticket, *, now):
    """Set the timers of a new (unsaved) ticket: response, resolution, warnings, pickup."""
    ctx = Context.load(ticket)
    tier, calendars = lookups.once(
        ("timers.tier", ticket.service_id, ticket.tier),
        lambda: _tier_with_calendar(ticket.service_id, ticket.tier),
    )
    ticket.tier_entered_at = now
    ticket.pickup_due_at = pickup_due(tier, now, calendars)
    refresh(ticket, ctx)
    return ctx


def _tier_with_calendar(service_id, level):
    """The service's tier ``level`` and {its calendar id: clock calendar}, or (None, None)."""
    tier = (
        Tier.objects.filter(service_id=service_id, level=level).select_related("calendar").first()
    )
    if tier is None:
        return None, None
    return tier, {tier.calendar_id: business_calendar(tier.calendar if tier.calendar_id else None)}


def pickup_due(tier, entered_at, calendars=None):
    """When ``tier`` must have picked up a ticket that entered it at ``entered_at``."""
    if tier is None or not tier.pickup:
        return None
    if calendars is not None:
        cal = calendars[tier.calendar_id]
    else:
        cal = business_calendar(tier.calendar if tier.calendar_id else None)
    return clock.deadline(cal, entered_at, parse_duration(tier.pickup))


def first_response(ticket, *, now, ctx=None):
    """A staff member's first public reply: the response timer stops (met or missed)."""
    ctx = ctx or Context.load(ticket)
    ticket.first_response_at = now
    ticket.pickup_due_at = None
    if ticket.response_met is None:
        _finish_response(ticket, ctx, now, ended_by="reply")
    refresh(ticket, ctx)


def picked_up(ticket, *, ctx=None):
    """Assigned or answered while in its tier: the pickup timer stops."""
    if ticket.pickup_due_at is None:
        return
    ctx = ctx or Context.load(ticket)
    ticket.pickup_due_at = None
    refresh(ticket, ctx)


def status_changed(ticket, previous, *, now, ctx=None):
    """Pause, resume, stop or reopen the timers after ``previous`` → ``ticket.status``."""
    ctx = ctx or Context.load(ticket)
    paused_in = pause_statuses(ctx.policy) | STOPPED
    status = ticket.status
    if previous not in STOPPED and status in STOPPED:
        _stop(ticket, ctx, now, ended_by=status)
    if previous in paused_in and previous != status:
        _close_pause(ticket, now)
    if status in paused_in and previous != status:
        _open_pause(ticket, now, status)
    if previous in STOPPED and status not in STOPPED:
        # Reopened: the resolution timer runs again with the time it had used.
        ticket.resolution_met = None
    refresh(ticket, ctx)


def priority_changed(ticket, *, ctx=None):
    """New targets: every running deadline is recomputed from creation (minus paused time)."""
    refresh(ticket, ctx or Context.load(ticket))


def refresh(ticket, ctx):
    """Recompute the running timers' deadlines and the sweep's next check from the ticket."""
    cal, priority = ctx.calendar, ticket.priority
    warn = ctx.policy.warn_at if ctx.policy else None
    active = ticket.status not in STOPPED
    if ticket.response_met is None and active:
        ticket.response_due_at, ticket.response_warn_at = timer_deadlines(
            cal, ticket.created_at, parse_duration(priority.response), warn
        )
    else:
        ticket.response_due_at = ticket.response_warn_at = None
    if ticket.resolution_met is None and active and priority.resolution:
        ticket.resolution_due_at, ticket.resolution_warn_at = timer_deadlines(
            cal, ticket.created_at, parse_duration(priority.resolution), warn, pauses_of(ticket)
        )
    else:
        ticket.resolution_due_at = ticket.resolution_warn_at = None
    if not active:
        ticket.pickup_due_at = None
    # Past instants too: a deadline that a priority change moved into the past is due now.
    update_next(ticket, ctx, after=None)


def update_next(ticket, ctx, *, after):
    """``next_due_at`` and ``next_sla_check_at`` from the stored deadlines (no recomputing).

    ``after``: only steps later than this count (the sweep has just done everything up to it).
    """
    running = [ticket.response_due_at, ticket.pickup_due_at]
    if ticket.paused_at is None:
        running.append(ticket.resolution_due_at)
    ticket.next_due_at = min((d for d in running if d is not None), default=None)
    steps = due_steps(ticket, ctx)
    if after is not None:
        steps = [step for step in steps if step.at > after]
    ticket.next_sla_check_at = steps[0].at if steps else None


def due_steps(ticket, ctx, *, until=None):
    """Every step the ticket's running timers call for, in order (up to ``until``)."""
    if ticket.status in STOPPED:
        return []
    steps = []
    if ticket.response_due_at is not None:
        due = ticket.response_due_at
        if ticket.response_warn_at is not None and ticket.response_warn_at < due:
            steps.append(DueStep(ticket.response_warn_at, "response", due, "warned"))
        steps.append(DueStep(due, "response", due, "breached"))
    if ticket.resolution_due_at is not None:
        due = ticket.resolution_due_at
        resolution = []
        if ticket.resolution_warn_at is not None and ticket.resolution_warn_at < due:
            resolution.append(DueStep(ticket.resolution_warn_at, "resolution", due, "warned"))
        resolution.append(DueStep(due, "resolution", due, "breached"))
        resolution += _management_steps(ticket, ctx, due)
        if ticket.paused_at is not None:
            # A stopped timer: nothing of it falls due during the pause.
            resolution = [step for step in resolution if step.at <= ticket.paused_at]
        steps += resolution
    if ticket.pickup_due_at is not None and not _pickup_superseded(ticket, steps):
        due = ticket.pickup_due_at
        steps.append(DueStep(due, "pickup", due, "breached"))
    if until is not None:
        steps = [step for step in steps if step.at <= until]
    return sorted(steps, key=lambda step: step.rank)


def _pickup_superseded(ticket, steps):
    """The tier's pickup is moot when a response or resolution breach falls due after the
    ticket entered the tier and no later than the pickup: that breach escalates the ticket (or,
    at the top tier, tells the tier) first, and one lapse is one escalation. Without this a
    ticket whose response and pickup lapse together (Roofing: P3 4 h and Tier 1's 4 business
    hours, both from creation) jumped two tiers in one sweep."""
    entered, due = ticket.tier_entered_at, ticket.pickup_due_at
    return any(
        step.step == "breached" and (entered is None or step.at > entered) and step.at <= due
        for step in steps
    )


def _management_steps(ticket, ctx, due):
    policy = ctx.policy
    if not (ticket.priority.notify_management and policy and policy.management_chain):
        return []
    interval = management_interval(policy)
    steps = []
    for k, _role in enumerate(policy.management_chain[:MAX_MANAGEMENT_ROLES]):
        if k == 0:
            at = due
        elif interval is None:
            break
        else:
            # The chain is paced in open time of the priority's calendar, like the timer.
            at = clock.deadline(
                ctx.calendar,
                due,
                Duration(minutes=interval.minutes * k, business_days=interval.business_days * k),
            )
        steps.append(DueStep(at, "resolution", due, f"management_{k + 1}"))
    return steps


def management_role(policy, step):
    """The role name a ``management_<k>`` step notifies."""
    k = int(step.rsplit("_", 1)[1])
    return policy.management_chain[k - 1]


# --- helpers ---------------------------------------------------------------------------------


def _stop(ticket, ctx, now, *, ended_by):
    """Resolved or closed: both timers end, and how they ended is recorded."""
    if ticket.response_met is None:
        _finish_response(ticket, ctx, now, ended_by=ended_by)
    priority = ticket.priority
    if ticket.resolution_met is None and priority.resolution:
        warn = ctx.policy.warn_at if ctx.policy else None
        due, _ = timer_deadlines(
            ctx.calendar,
            ticket.created_at,
            parse_duration(priority.resolution),
            warn,
            pauses_of(ticket, closed_at=now),
        )
        ticket.resolution_met = now <= due
        _outcome(ticket, ctx, "resolution", due, now, ticket.resolution_met, ended_by)
    ticket.pickup_due_at = None


def _finish_response(ticket, ctx, now, *, ended_by):
    due = ticket.response_due_at
    if due is None:
        # A ticket from before timers existed: its deadline is computed as it would have been.
        due, _ = timer_deadlines(
            ctx.calendar, ticket.created_at, parse_duration(ticket.priority.response), None
        )
    ticket.response_met = now <= due
    _outcome(ticket, ctx, "response", due, now, ticket.response_met, ended_by)


def _outcome(ticket, ctx, timer, due, now, met, ended_by):
    TimerOutcome.objects.create(
        ticket=ticket,
        timer=timer,
        due_at=due,
        finished_at=now,
        met=met,
        delta=open_delta(ctx.calendar, due, now),
        ended_by=ended_by,
    )


def _open_pause(ticket, now, status):
    if ticket.paused_at is not None:
        return
    ticket.paused_at = now
    ticket.sla_pauses = [*(ticket.sla_pauses or []), [now.isoformat(), None, str(status)]]


def _close_pause(ticket, now):
    if ticket.paused_at is None:
        return
    pauses = [list(p) for p in ticket.sla_pauses or []]
    for pause in pauses:
        if pause[1] is None:
            pause[1] = now.isoformat()
    ticket.sla_pauses = pauses
    ticket.paused_at = None
