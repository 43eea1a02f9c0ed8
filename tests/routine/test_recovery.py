"""Which tasks are DR drills or restore tests, and how their results are judged."""

from datetime import timedelta

import pytest

from routine.recovery import format_span, is_recovery_test, met, parse_achieved, targets_for
from sla.models import ServiceTargets


@pytest.mark.parametrize(
    ("name", "category", "expected"),
    [
        # From the seed plans.
        ("Disaster recovery drill", "backup", True),
        ("Disaster recovery testing", "backup", True),
        ("Backup restoration testing", "backup", True),
        ("Database backups verification", "backup", False),
        ("Backup verification", "backup", False),
        ("Backup integrity verification", "backup", False),
        ("Full system backup", "backup", False),
        ("Incident response plan testing", "security", False),
        ("Business continuity planning", "compliance", False),
        # By category, whatever the name.
        ("Failover exercise", "dr", True),
        ("Quarterly exercise", "Drill", True),
        ("Restore a snapshot", "operations", True),
    ],
)
def test_recovery_tests_are_recognised_by_category_or_name(name, category, expected):
    assert is_recovery_test(name=name, category=category) is expected


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("45m", timedelta(minutes=45)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("2H", timedelta(hours=2)),
        ("30s", timedelta(seconds=30)),
        ("0m", timedelta(0)),
        ("0", timedelta(0)),
        ("90", timedelta(minutes=90)),
        ("1d2h", timedelta(hours=26)),
    ],
)
def test_achieved_times_are_read_as_staff_type_them(text, span):
    assert parse_achieved(text) == span


@pytest.mark.parametrize("text", ["", "soon", "1h30", "-5m", "5m5m", "1.5h", "h"])
def test_unreadable_times_are_refused_with_a_message(text):
    with pytest.raises(ValueError, match=r"\S"):
        parse_achieved(text)


def test_format_span_round_trips():
    for text in ["0m", "45m", "1h30m", "1d2h", "30s"]:
        assert format_span(parse_achieved(text)) == text


def test_met_is_at_or_under_the_target_and_none_without_one():
    assert met(timedelta(minutes=60), "1h") is True
    assert met(timedelta(minutes=61), "1h") is False
    assert met(timedelta(0), "5m") is True
    assert met(timedelta(minutes=6), "5m") is False
    assert met(timedelta(minutes=6), "") is None
    assert met(None, "5m") is None
    assert met(timedelta(minutes=6), "2bd") is None


def test_targets_come_from_the_plan_or_one_of_its_recovery_classes():
    targets = ServiceTargets(
        rto="4h",
        rpo="1h",
        recovery=[
            {"name": "Critical", "rto": "4h", "rpo": "1h"},
            {"name": "Important", "rto": "24h", "rpo": "8h"},
        ],
    )
    assert (targets_for(targets).rto, targets_for(targets).rpo) == ("4h", "1h")
    important = targets_for(targets, "Important")
    assert (important.rto, important.rpo, important.recovery_class) == ("24h", "8h", "Important")
    with pytest.raises(ValueError, match="Critical, Important"):
        targets_for(targets, "Gold")
    assert targets_for(None).rto == ""
