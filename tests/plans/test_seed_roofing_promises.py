"""Roofing's plan walked through January 2027 on the shipped file: each promise issue 14 made
the portal keep, one after another on one timeline (docs/plans.md, the promise table).

Tier 1 works 9 AM–6 PM EST and P2 follows it; P1 runs around the clock; a data breach tells the
Security Officer at once and gives 72 hours to report it; security patches are applied within
7 days of release; the month's report reaches the Technical Lead and the Operations Manager
once."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from incidents import runbooks
from incidents import services as incident_services
from notifications.models import Notification
from reports.services import reports_send_due
from routine.models import RoutineTask
from routine.reminders import routine_items_remind_overdue
from routine.services import release_record
from sla.models import Service
from tests import factories
from tickets import services as ticket_services
from tickets.emails import received_key

pytestmark = pytest.mark.django_db

PLANS = Path(__file__).resolve().parents[2] / "plans"


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_roofing_promises_through_january_2027():
    with at(datetime(2027, 1, 4, 14, 0, tzinfo=UTC)):
        call_command("load_plan", str(PLANS / "roofing-platform.yaml"), stdout=io.StringIO())
    roofing = Service.objects.get(slug="roofing-platform")
    customer = factories.CustomerFactory(services=[roofing])
    engineer = factories.StaffFactory(tier=3, email="eng@roofing.example")

    # P2 (High), 1 hour of Tier 1's hours: filed Friday 17:30 EST, due Monday 09:30 EST — and
    # the customer is told so in the confirmation email.
    with at(datetime(2027, 1, 8, 22, 30, tzinfo=UTC)):
        high = ticket_services.ticket_create(
            customer=customer, service=roofing, priority="P2", subject="Slow", description="x"
        )
    assert high.response_due_at == datetime(2027, 1, 11, 14, 30, tzinfo=UTC)
    confirmation = Notification.objects.get(key=received_key(high)).body_text
    assert "We will respond by Mon 11 Jan 2027 09:30 EST." in confirmation
    assert "business hours Mon–Fri 09:00–18:00 (America/New_York)" in confirmation

    # P1 (Critical) runs around the clock: 15 minutes, Saturday night included.
    with at(datetime(2027, 1, 10, 4, 0, tzinfo=UTC)):
        critical = ticket_services.ticket_create(
            customer=customer, service=roofing, priority="P1", subject="Down", description="x"
        )
    assert critical.response_due_at == datetime(2027, 1, 10, 4, 15, tzinfo=UTC)
    assert (
        "Sat 9 Jan 2027 23:15 EST" in Notification.objects.get(key=received_key(critical)).body_text
    )

    # Security patches within 7 days of release: an item due on the 7th day, reminded then.
    patches = RoutineTask.objects.get(service=roofing, name="Security patches applied")
    released = datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
    with at(released + timedelta(hours=2)):
        release = release_record(
            task=patches, name="OpenSSL 3.0.15", released_at=released, by=engineer
        )
    assert release.item.due_at == released + timedelta(days=7)
    with at(released + timedelta(days=7)):
        routine_items_remind_overdue()
    assert (
        Notification.objects.filter(
            to="eng@roofing.example", subject__contains="OpenSSL 3.0.15"
        ).count()
        == 1
    )

    # A personal-data breach: the Security Officer hears at once; 72 hours from detection to
    # report it, reminded at half-time and at the deadline, then up the chain.
    detected = datetime(2027, 1, 13, 15, 0, tzinfo=UTC)
    with at(detected + timedelta(hours=1)):
        breach = incident_services.incident_open(
            service=roofing,
            severity="P1",
            title="Records exposed",
            by=engineer,
            started_at=detected,
            runbook="data-breach",
        )
    assert Notification.objects.filter(
        key__contains=":runbook:data-breach:", to="security@roofingplatform.com"
    ).exists()
    deadline = breach.deadlines.get()
    assert deadline.due_at == detected + timedelta(hours=72)
    with at(detected + timedelta(hours=73)):
        runbooks.deadline_reminders_send_due()
    stages = sorted(
        key.split(":")[2]
        for key in Notification.objects.filter(
            key__startswith=f"incident-deadline:{deadline.pk}:"
        ).values_list("key", flat=True)
    )
    assert stages == ["deadline", "management-1"]

    # January's report, once, to the two roles the plan names (not the Security Officer).
    january_over = datetime(2027, 2, 1, 5, 0, tzinfo=UTC)
    reports_send_due(now=january_over)
    reports_send_due(now=january_over + timedelta(hours=1))
    sent = Notification.objects.filter(key__startswith="report:roofing-platform:2027-01:")
    assert sorted(sent.values_list("to", flat=True)) == [
        "ops@roofingplatform.com",
        "tech@roofingplatform.com",
    ]
