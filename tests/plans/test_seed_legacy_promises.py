"""Legacy's plan walked through March 2027 on the shipped file (docs/plans.md, the promise
table): a P2's 4-hour response and 48-hour resolution shown to the customer and paused while
waiting on them; an outage's post-mortem due 48 hours after resolution, reminded; the month's
report to the Project Manager, the Sponsor and each contract holder (their own hours only),
once, with the month's availability against 99.9 %."""

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from incidents import reminders
from incidents import services as incident_services
from notifications.models import Notification
from reports.services import reports_send_due
from sla.models import Service
from tests import factories
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
)
from tickets import services as ticket_services
from tickets.emails import received_key
from uptime.figures import percent_text
from uptime.reports import monthly_report

pytestmark = pytest.mark.django_db

PLANS = Path(__file__).resolve().parents[2] / "plans"


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_legacy_promises_through_march_2027():
    with at(datetime(2027, 3, 1, 12, 0, tzinfo=UTC)):
        call_command("load_plan", str(PLANS / "legacy-estate-os.yaml"), stdout=io.StringIO())
    legacy = Service.objects.get(slug="legacy-estate-os")
    for role, address in (
        ("Project Manager", "pm@legacy.example"),
        ("Sponsor", "sp@legacy.example"),
    ):
        factories.ManagementContactFactory(service=legacy, role=role, email=address)
    customer = factories.CustomerFactory(services=[legacy], email="ann@acme.example")
    acme = OrganizationFactory(service=legacy, name="Acme Homes")
    OrganizationMemberFactory(organization=acme, user=customer)
    ContractPeriodFactory(
        organization=acme, starts_on=date(2027, 1, 1), contract=legacy.contracts.get(name="Basic")
    )
    staff = factories.StaffFactory(tier=1, email="sam@legacy.example")

    # P2: 4 h response, 48 h resolution, around the clock; the customer is told both.
    opened = datetime(2027, 3, 2, 14, 0, tzinfo=UTC)  # Tue 09:00 EST
    with at(opened):
        ticket = ticket_services.ticket_create(
            customer=customer, service=legacy, priority="P2", subject="Bug", description="x"
        )
    confirmation = Notification.objects.get(key=received_key(ticket)).body_text
    assert "We will respond by Tue 2 Mar 2027 13:00 EST." in confirmation
    assert "We aim to resolve it by Thu 4 Mar 2027 09:00 EST." in confirmation
    # Waiting on the customer for a day pushes the resolution by that day.
    with at(opened + timedelta(hours=1)):
        ticket_services.ticket_set_status(ticket=ticket, status="waiting_on_customer", by=staff)
    with at(opened + timedelta(hours=25)):
        ticket_services.ticket_reply(ticket=ticket, author=customer, body="Here")
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == datetime(2027, 3, 5, 14, 0, tzinfo=UTC)

    # A 43-minute outage; its post-mortem is due 48 h after resolution, the owner reminded.
    started = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
    with at(started):
        incident = incident_services.incident_open(
            service=legacy, severity="P0", title="Down", by=staff
        )
    with at(started + timedelta(minutes=43)):
        incident_services.incident_resolve(incident=incident, by=staff)
    incident.refresh_from_db()
    assert incident.postmortem_due_at == started + timedelta(minutes=43, hours=48)
    with at(incident.postmortem_due_at):
        reminders.postmortem_reminders_send_due()
    assert Notification.objects.filter(
        key__startswith=f"incident:{incident.pk}:postmortem:", to="sam@legacy.example"
    ).exists()

    # March's report (March ends at 04:00 UTC on 1 April, after the spring-forward), once each.
    march_over = datetime(2027, 4, 1, 4, 0, tzinfo=UTC)
    reports_send_due(now=march_over)
    reports_send_due(now=march_over)
    monthly = Notification.objects.filter(key__startswith="report:legacy-estate-os:2027-03:")
    assert sorted(monthly.values_list("to", flat=True)) == [
        "ann@acme.example",
        "pm@legacy.example",
        "sp@legacy.example",
    ]
    # The uptime line is the uptime report's own reading of March.
    march = monthly_report(services=[legacy], first=date(2027, 3, 1), now=march_over)[0].overall
    line = f"- Overall: {percent_text(march.availability.percent)} % — target 99.9 %: {march.state}"
    assert line in monthly.get(to="pm@legacy.example").body_text
    # The first quarter closes with March: its report goes out too.
    assert (
        Notification.objects.filter(key__startswith="report:legacy-estate-os:2027-Q1:").count() == 3
    )
