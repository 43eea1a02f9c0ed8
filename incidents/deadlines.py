"""When a post-mortem is due and when its reminders fall: pure functions (STYLE.md rule 6).

- Due: ``resolved_at`` + the plan's ``postmortem_due``. Hours, days and weeks (``48h``) are
  real elapsed time, whatever the calendar or a DST change in between; business days (``2bd``)
  count open days of the calendar of the incident's severity (``sla.clock.add_business_days``:
  the same local time on the second following open day).
- Reminders: the owner at half-time (the midpoint of the real span from resolution to due)
  and at the deadline; then the management chain, role k one ``management_interval`` × k after
  the deadline (an hour apart when the plan gives no interval), the pace at which the plan
  walks the chain for tickets.
- A late run (beat down, a crash) sends what is due now, not what went stale: of the owner's
  reminders only the latest due one (never half-time and deadline together); each management
  role that has come due hears once, as each is a different person who has not heard yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sla import clock
from sla.durations import Duration
from sla.selectors import management_interval

# The pace of the escalation when the plan has a one-role chain and so no interval.
DEFAULT_ESCALATION_INTERVAL = Duration(minutes=60)
# Bounds the chain walked (a plan listing dozens of roles is a typo, not a process).
MAX_MANAGEMENT_ROLES = 10

HALFTIME = "halftime"
DEADLINE = "deadline"
MANAGEMENT = "management"


@dataclass(frozen=True)
class Reminder:
    kind: str
    at: datetime
    role: str = ""
    position: int = 0  # 1-based place of ``role`` in the management chain

    @property
    def name(self):
        """Names the stage in outbox keys: halftime, deadline, management-1, …"""
        return f"{self.kind}-{self.position}" if self.kind == MANAGEMENT else self.kind

    @property
    def to_owner(self):
        return self.kind != MANAGEMENT


def postmortem_due(*, resolved_at: datetime, due: Duration | None, calendar) -> datetime | None:
    """The post-mortem's deadline, or None when the plan sets none."""
    if due is None:
        return None
    return _after(resolved_at, due, 1, calendar)


def reminder_schedule(
    *,
    resolved_at: datetime,
    due_at: datetime,
    chain: list[str],
    interval: Duration | None,
    calendar,
) -> list[Reminder]:
    """Every reminder of one post-mortem, in time order."""
    schedule = [Reminder(HALFTIME, halfway(resolved_at, due_at)), Reminder(DEADLINE, due_at)]
    pace = interval or DEFAULT_ESCALATION_INTERVAL
    for k, role in enumerate(chain[:MAX_MANAGEMENT_ROLES], start=1):
        schedule.append(Reminder(MANAGEMENT, _after(due_at, pace, k, calendar), role, k))
    return schedule


def incident_schedule(incident, policy, calendar) -> list[Reminder]:
    """The schedule of a resolved incident's post-mortem under its service's escalation
    ``policy`` (None: no management chain) and its severity's business ``calendar``."""
    return policy_schedule(
        start=incident.resolved_at,
        due_at=incident.postmortem_due_at,
        policy=policy,
        calendar=calendar,
    )


def policy_schedule(*, start, due_at, policy, calendar) -> list[Reminder]:
    """The reminders of any incident deadline (a post-mortem from resolution, a runbook's from
    detection) under the service's escalation ``policy`` (None: no management chain)."""
    return reminder_schedule(
        resolved_at=start,
        due_at=due_at,
        chain=list(policy.management_chain or ()) if policy else [],
        interval=management_interval(policy),
        calendar=calendar,
    )


def halfway(resolved_at: datetime, due_at: datetime) -> datetime:
    """Half-time: the midpoint of the real span, the first reminder of every schedule."""
    return resolved_at + (due_at - resolved_at) / 2


@dataclass(frozen=True)
class Due:
    send: list[Reminder]  # what to send now
    skipped: list[Reminder]  # stale owner reminders passed over by a late run
    done: int  # stages handled once these are recorded
    next_at: datetime | None  # when the next stage falls due; None when none is left


def reminders_due(schedule: list[Reminder], *, done: int, now: datetime) -> Due:
    """What a run at ``now`` sends, given that the first ``done`` stages were handled."""
    pending = [reminder for reminder in schedule[done:] if reminder.at <= now]
    owner = [reminder for reminder in pending if reminder.to_owner]
    send = [reminder for reminder in pending if not reminder.to_owner]
    if owner:
        send.insert(0, owner[-1])
    handled = done + len(pending)
    return Due(
        send=send,
        skipped=owner[:-1],
        done=handled,
        next_at=schedule[handled].at if handled < len(schedule) else None,
    )


def _after(start: datetime, duration: Duration, times: int, calendar) -> datetime:
    if duration.business_days:
        return clock.add_business_days(calendar, start, duration.business_days * times)
    if start.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {start!r}")
    # In UTC, adding hours is real elapsed time across a DST change (in a zone it is not).
    return start.astimezone(UTC) + timedelta(minutes=duration.minutes * times)
