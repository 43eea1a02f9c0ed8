"""The pure rules: step moves and the post-mortem reminder schedule (no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents import deadlines
from incidents.steps import StepError, StepForbidden, next_step, plan_move, resolve_step
from sla.clock import BusinessCalendar
from sla.durations import parse_duration

STEPS = ["detect", "triage", "communicate", "resolve", "review"]
R = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
ALWAYS = BusinessCalendar.always_open()


def test_forward_moves_may_skip_and_resolve():
    move = plan_move(STEPS, current="detect", target="resolve", resolved=False, may_go_back=False)
    assert move.skipped == ("triage", "communicate") and move.resolves and not move.backward
    move = plan_move(STEPS, current="resolve", target="review", resolved=True, may_go_back=False)
    assert not move.resolves and not move.reopens


def test_back_moves_are_for_superusers_and_may_reopen():
    with pytest.raises(StepForbidden):
        plan_move(STEPS, current="triage", target="detect", resolved=False, may_go_back=False)
    move = plan_move(STEPS, current="review", target="triage", resolved=True, may_go_back=True)
    assert move.backward and move.reopens
    move = plan_move(STEPS, current="review", target="resolve", resolved=True, may_go_back=True)
    assert move.backward and not move.reopens


def test_unknown_and_same_steps_are_refused_with_the_list():
    with pytest.raises(StepError, match="detect → triage → communicate → resolve → review"):
        plan_move(STEPS, current="detect", target="fix", resolved=False, may_go_back=True)
    with pytest.raises(StepError, match="already"):
        plan_move(STEPS, current="detect", target="detect", resolved=False, may_go_back=True)


def test_a_step_the_plan_dropped_may_move_anywhere_but_not_reopen():
    move = plan_move(STEPS, current="gone", target="triage", resolved=False, may_go_back=False)
    assert not move.backward
    with pytest.raises(StepForbidden):
        plan_move(STEPS, current="gone", target="triage", resolved=True, may_go_back=False)


def test_the_resolving_step_and_the_next_step():
    assert resolve_step(STEPS) == "resolve"
    assert resolve_step(["detection", "Resolution", "post-mortem"]) == "Resolution"
    assert resolve_step(["open", "closed"]) == "closed"
    assert next_step(STEPS, "communicate") == "resolve"
    assert next_step(STEPS, "review") is None


def schedule(chain=("Tech Lead", "Sponsor"), interval="1h", due=48 * H):
    return deadlines.reminder_schedule(
        resolved_at=R,
        due_at=R + due,
        chain=list(chain),
        interval=parse_duration(interval) if interval else None,
        calendar=ALWAYS,
    )


def test_the_schedule_half_time_deadline_then_each_role_an_interval_apart():
    assert [(r.name, r.at - R, r.role) for r in schedule()] == [
        ("halftime", 24 * H, ""),
        ("deadline", 48 * H, ""),
        ("management-1", 49 * H, "Tech Lead"),
        ("management-2", 50 * H, "Sponsor"),
    ]
    assert schedule(chain=["Lead"], interval=None)[-1].at == R + 49 * H  # default pace


@pytest.mark.parametrize(
    "done, now, send, skipped, after, next_at",
    [
        (0, 24 * H - timedelta(seconds=1), [], [], 0, 24 * H),
        (0, 24 * H, ["halftime"], [], 1, 48 * H),
        (1, 48 * H, ["deadline"], [], 2, 49 * H),
        # Late: past the deadline before half-time was sent — only the deadline reminder.
        (0, 48 * H + H / 2, ["deadline"], ["halftime"], 2, 49 * H),
        # Very late: the owner's latest reminder, and every role due, once each.
        (0, 99 * H, ["deadline", "management-1", "management-2"], ["halftime"], 4, None),
        (4, 199 * H, [], [], 4, None),
    ],
)
def test_what_a_run_sends(done, now, send, skipped, after, next_at):
    due = deadlines.reminders_due(schedule(), done=done, now=R + now)
    assert [r.name for r in due.send] == send
    assert [r.name for r in due.skipped] == skipped
    assert due.done == after
    assert due.next_at == (None if next_at is None else R + next_at)


def test_business_day_due_and_pace_follow_the_calendar():
    """ "1bd" from Friday 16:00 New York is Monday 16:00; the escalation one open day later."""
    calendar = BusinessCalendar.from_hours("America/New_York", {"mon-fri": ["09:00-18:00"]})
    friday = datetime(2027, 1, 8, 21, 0, tzinfo=UTC)  # 16:00 EST
    due = deadlines.postmortem_due(resolved_at=friday, due=parse_duration("1bd"), calendar=calendar)
    assert due == datetime(2027, 1, 11, 21, 0, tzinfo=UTC)
    plan = deadlines.reminder_schedule(
        resolved_at=friday,
        due_at=due,
        chain=["Lead"],
        interval=parse_duration("1bd"),
        calendar=calendar,
    )
    assert plan[-1].at == datetime(2027, 1, 12, 21, 0, tzinfo=UTC)
    assert deadlines.postmortem_due(resolved_at=friday, due=None, calendar=calendar) is None
