"""Runbooks per incident type (Roofing's Emergency Procedures): opening a data-breach incident
tells the Security Officer at once and starts the 72-hour authority notification from
detection, reminded like a post-mortem (owner at half-time and deadline, then the chain) until
marked done; each email once, whatever runs when. On the shipped plan at 2027 dates."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from incidents import runbooks, services
from incidents.models import Incident, IncidentDeadline
from notifications.models import Notification
from sla.models import Service
from tests import factories
from tests.concurrency import run_together

PLANS = Path(__file__).resolve().parents[2] / "plans"
OPENED = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
DETECTED = OPENED - timedelta(hours=2)  # found in the logs two hours before the record
DUE = DETECTED + timedelta(hours=72)


@pytest.fixture
def roofing(db):
    with time_machine.travel(OPENED - timedelta(days=30), tick=False):
        call_command("load_plan", str(PLANS / "roofing-platform.yaml"), stdout=io.StringIO())
    return Service.objects.get(slug="roofing-platform")


@pytest.fixture
def owner(db):
    return factories.StaffFactory(tier=3, email="olive@roofing.example")


def open_breach(service, owner, runbook="data-breach"):
    with time_machine.travel(OPENED, tick=False):
        return services.incident_open(
            service=service,
            severity="P1",
            title="Customer records exposed",
            by=owner,
            started_at=DETECTED,
            runbook=runbook,
        )


def reminders():
    return sorted(
        (row.key.split(":")[2], row.to)
        for row in Notification.objects.filter(key__startswith="incident-deadline:")
    )


def sweep(at):
    with time_machine.travel(at, tick=False):
        return runbooks.deadline_reminders_send_due()


def test_a_breach_tells_the_security_officer_at_once_and_starts_its_72_hours(roofing, owner):
    incident = open_breach(roofing, owner)
    deadline = IncidentDeadline.objects.get(incident=incident)
    assert (deadline.name, deadline.due_at) == ("Report to regulatory authorities", DUE)
    assert deadline.reminder_at == DETECTED + timedelta(hours=36)  # half-time
    told = Notification.objects.filter(key__contains=":runbook:data-breach:")
    assert sorted(row.to for row in told) == [
        "security@roofingplatform.com",
        "tech@roofingplatform.com",
    ]
    text = told[0].body_text
    assert "Data breach response" in text and "Report to regulatory authorities: by " in text
    # Detected Wed 10 Mar 08:00 EST: due Sat 13 Mar 08:00 EST, 13:00 UTC.
    assert "Saturday 13 March 2027, 08:00 America/New_York (2027-03-13 13:00 UTC)" in text
    assert "1. Isolate affected systems" in text


def test_a_critical_failure_has_no_deadline_and_an_unknown_type_is_refused(roofing, owner):
    incident = open_breach(roofing, owner, runbook="critical-failure")
    assert not incident.deadlines.exists()
    assert sorted(
        Notification.objects.filter(key__contains=":runbook:").values_list("to", flat=True)
    ) == ["ops@roofingplatform.com", "tech@roofingplatform.com"]
    before = Incident.objects.count()
    with pytest.raises(ValidationError, match="has no runbook 'flood'"):
        open_breach(roofing, owner, runbook="flood")
    assert Incident.objects.count() == before


def test_reminders_at_half_time_deadline_then_the_chain_each_once(roofing, owner):
    """Owner at half-time and at the deadline; then Technical Lead, Security Officer and
    Operations Manager an hour apart (the plan's management_interval); a second run at the
    same moment records nothing."""
    open_breach(roofing, owner)
    sweep(DETECTED + timedelta(hours=36) - timedelta(seconds=1))
    assert reminders() == []
    sweep(DETECTED + timedelta(hours=36))
    sweep(DETECTED + timedelta(hours=36))
    assert reminders() == [("halftime", "olive@roofing.example")]
    sweep(DUE)
    sweep(DUE + timedelta(hours=2))
    sweep(DUE + timedelta(hours=2))
    assert reminders() == [
        ("deadline", "olive@roofing.example"),
        ("halftime", "olive@roofing.example"),
        ("management-1", "tech@roofingplatform.com"),
        ("management-2", "security@roofingplatform.com"),
    ]


def test_a_late_run_sends_the_latest_owner_reminder_and_every_role_due(roofing, owner):
    open_breach(roofing, owner)
    sweep(DUE + timedelta(hours=5))
    assert reminders() == [
        ("deadline", "olive@roofing.example"),
        ("management-1", "tech@roofingplatform.com"),
        ("management-2", "security@roofingplatform.com"),
        ("management-3", "ops@roofingplatform.com"),
    ]


def test_done_stops_the_reminders(roofing, owner):
    incident = open_breach(roofing, owner)
    sweep(DETECTED + timedelta(hours=36))
    with time_machine.travel(DETECTED + timedelta(hours=40), tick=False):
        runbooks.incident_deadline_done(deadline=incident.deadlines.get(), by=owner)
    sweep(DUE + timedelta(hours=5))
    assert reminders() == [("halftime", "olive@roofing.example")]
    assert incident.deadlines.get().reminder_at is None


def test_beat_runs_the_sweep():
    assert any(
        entry["task"] == "incidents.tasks.remind_incident_deadlines"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_record_each_reminder_once(roofing, owner):
    open_breach(roofing, owner)
    with time_machine.travel(DUE + timedelta(hours=5), tick=False):
        run_together(runbooks.deadline_reminders_send_due, runbooks.deadline_reminders_send_due)
    assert len(reminders()) == 4


RUNBOOK = "incidents:\n  runbooks:\n    - type: breach\n      name: Breach\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "path", "line", "fragment"),
    [
        (
            "      notify: [Sponsor]\n",
            "incidents.runbooks[0].notify[0]",
            51,
            "'Sponsor' is not a role of escalation.management_chain",
        ),
        (
            "      deadlines: [{name: Tell}]\n",
            "incidents.runbooks[0].deadlines[0].within",
            51,
            "within",
        ),
        (
            "      deadlines: [{name: Tell, within: soon}]\n",
            "incidents.runbooks[0].deadlines[0].within",
            51,
            "",
        ),
        ("    - type: breach\n      name: Again\n", "incidents.runbooks[1].type", 51, "duplicate"),
        ("      owner: x\n", "incidents.runbooks[0].owner", 51, ""),
    ],
)
def test_bad_runbooks_are_refused_with_path_and_line(tmp_path, extra, path, line, fragment):
    from tests.sla.test_plan_validation import assert_error, load_failing, plan_text

    file, output = load_failing(tmp_path, plan_text(append=RUNBOOK + extra))
    assert_error(output, file, path, line, fragment)


def test_exported_plan_keeps_its_runbooks(roofing):
    """The export writes the runbooks back inside `incidents`, beside sla's own keys."""
    from sla.plan.export import service_export_tree

    section = service_export_tree(service=roofing)["incidents"]
    assert section["steps"][0] == "detection"
    assert [entry["type"] for entry in section["runbooks"]] == ["critical-failure", "data-breach"]
    assert section["runbooks"][1]["deadlines"] == [
        {"name": "Report to regulatory authorities", "within": "72h"}
    ]
