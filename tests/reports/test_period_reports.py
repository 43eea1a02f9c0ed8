"""Monthly and quarterly reports: emailed once per period, after it ends, to the management
roles and contract holders the plan names, with the dashboards' own figures and a CSV; safe to
run twice, late and concurrently. On the shipped Legacy plan at pinned 2027 dates."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from core import periods
from metrics.report import build_report
from notifications.models import Notification
from reports.models import ReportSchedule
from reports.services import reports_send_due
from sla.models import Priority, Service
from tests import factories
from tests.concurrency import run_together
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
    TimeEntryFactory,
)
from tests.incidents.factories import IncidentFactory
from uptime.reports import monthly_report

PLANS = Path(__file__).resolve().parents[2] / "plans"
LOADED = datetime(2027, 1, 10, 15, 0, tzinfo=UTC)
# January ends at local midnight in New York: 05:00 UTC on 1 February.
JANUARY_OVER = datetime(2027, 2, 1, 5, 0, tzinfo=UTC)


def load(name="legacy-estate-os.yaml", at=LOADED):
    with time_machine.travel(at, tick=False):
        call_command("load_plan", str(PLANS / name), stdout=io.StringIO())
    return Service.objects.get(slug=name.removesuffix(".yaml"))


@pytest.fixture
def legacy(db):
    service = load()
    for role, address in (
        ("Tech Lead", "lead@legacy.example"),
        ("Project Manager", "pm@legacy.example"),
        ("Sponsor", "sponsor@legacy.example"),
    ):
        factories.ManagementContactFactory(service=service, role=role, email=address)
    acme = OrganizationFactory(service=service, name="Acme Homes")
    other = OrganizationFactory(service=service, name="Zenith Estates")
    for organization, contract in ((acme, "Basic"), (other, "Premium")):
        ContractPeriodFactory(
            organization=organization,
            starts_on=date(2027, 1, 1),
            contract=service.contracts.get(name=contract),
        )
    for organization, address in ((acme, "ann@acme.example"), (other, "zed@zenith.example")):
        OrganizationMemberFactory(
            organization=organization, user=factories.CustomerFactory(email=address)
        )
    p0 = Priority.objects.get(service=service, code="P0")
    # 43 minutes down in January (planned maintenance excluded by uptime's own rule).
    IncidentFactory(
        service=service,
        severity=p0,
        started_at=datetime(2027, 1, 20, 15, 0, tzinfo=UTC),
        resolved_at=datetime(2027, 1, 20, 15, 43, tzinfo=UTC),
    )
    ticket = factories.TicketFactory(service=service, priority=p0)
    TimeEntryFactory(
        ticket=ticket,
        organization=acme,
        minutes=150,
        worked_at=datetime(2027, 1, 21, 15, 0, tzinfo=UTC),
    )
    return service


def outbox():
    return {row.key: row for row in Notification.objects.filter(key__startswith="report:")}


@pytest.mark.django_db
def test_monthly_report_once_to_roles_and_contract_holders(legacy):
    """When January is over (not before), the plan's roles (Project Manager, Sponsor — not
    the Tech Lead) get the full report and each contract holder's members their own hours
    only; a second run, and a run a day later, record nothing more."""
    assert reports_send_due(now=JANUARY_OVER - timedelta(seconds=1)) == {}
    assert not outbox()

    reports_send_due(now=JANUARY_OVER)
    rows = outbox()
    assert sorted(rows) == [
        "report:legacy-estate-os:2027-01:ann@acme.example",
        "report:legacy-estate-os:2027-01:pm@legacy.example",
        "report:legacy-estate-os:2027-01:sponsor@legacy.example",
        "report:legacy-estate-os:2027-01:zed@zenith.example",
    ]
    management = rows["report:legacy-estate-os:2027-01:pm@legacy.example"]
    assert (
        management.subject == "Legacy – The Estate Operating System: monthly report, January 2027"
    )
    assert "Acme Homes, January 2027 (Basic): 2.5 of " in management.body_text
    assert "Zenith Estates, January 2027 (Premium)" in management.body_text
    ann = rows["report:legacy-estate-os:2027-01:ann@acme.example"].body_text
    assert "Acme Homes, January 2027 (Basic): 2.5 of " in ann
    assert (
        "Zenith" not in ann
        and "Zenith"
        not in rows["report:legacy-estate-os:2027-01:ann@acme.example"].attachments[0][2]
    )

    reports_send_due(now=JANUARY_OVER)
    reports_send_due(now=JANUARY_OVER + timedelta(days=1))
    assert len(outbox()) == 4
    assert ReportSchedule.objects.get(service=legacy).next_report_at == datetime(
        2027, 3, 1, 5, 0, tzinfo=UTC
    )


@pytest.mark.django_db
def test_figures_are_the_dashboards(legacy):
    """The uptime line, the yearly budget and every success-metrics figure are what the uptime
    page and the metrics dashboard compute (the same functions), in the email and the CSV."""
    reports_send_due(now=JANUARY_OVER)
    row = outbox()["report:legacy-estate-os:2027-01:pm@legacy.example"]
    month = periods.containing(periods.MONTH, date(2027, 1, 1), legacy.timezone)
    uptime = monthly_report(services=[legacy], first=date(2027, 1, 1), now=JANUARY_OVER)[0]
    assert uptime.overall.availability.downtime == timedelta(minutes=43)
    text = row.body_text
    assert "- Overall: 99.901 % — target 99.9 %: met (43 min down)" in text
    # 99.9 % of a year less planned maintenance; 43 minutes of it used by the end of January.
    # 99.9 % of the year less its planned maintenance (8.55 h, not 8.76 h: the Sunday windows
    # are not promised time); 43 minutes of it used by the end of January.
    assert (
        "- Downtime budget 2027 (99.9 %): 513.18 min a year; used 43 min, left 470.18 min" in text
    )
    metrics = build_report(service=legacy, period=month, now=JANUARY_OVER)
    for item in metrics.targets:
        assert f"- {item.label}: {item.display}" in text

    ((name, content_type, content),) = row.attachments
    assert (name, content_type) == ("legacy-estate-os-2027-01.csv", "text/csv")
    lines = list(csv.DictReader(io.StringIO(content)))
    by_metric = {(line["section"], line["scope"], line["metric"]): line for line in lines}
    for item in metrics.targets:
        assert by_metric[("targets", "", item.key)]["value"] == item.display
    assert by_metric[("uptime", "Overall", "availability")]["result"] == "met"
    assert by_metric[("budget", "2027", "downtime_budget")]["detail"].startswith("used 43 min")
    assert by_metric[("contract", "Acme Homes", "hours_used")]["number"] == "150"
    assert by_metric[("incidents", "", "outages")]["value"] == "1"


@pytest.mark.django_db
def test_quarter_with_its_last_month_and_late_runs_catch_up(legacy):
    """Beat down from January to April: one late run sends January, February and March, and
    the first quarter with March (after the spring-forward: March ends 04:00 UTC)."""
    reports_send_due(now=datetime(2027, 4, 2, tzinfo=UTC))
    values = sorted({key.split(":")[2] for key in outbox()})
    assert values == ["2027-01", "2027-02", "2027-03", "2027-Q1"]
    quarter = outbox()["report:legacy-estate-os:2027-Q1:sponsor@legacy.example"]
    assert quarter.subject.endswith("quarterly report, Q1 2027")
    assert ReportSchedule.objects.get(service=legacy).next_report_at == datetime(
        2027, 5, 1, 4, 0, tzinfo=UTC
    )


@pytest.mark.django_db
def test_plan_reload_neither_resends_nor_skips(legacy):
    """Reloading the plan keeps the deadline; dropping `reports:` drops the schedule."""
    reports_send_due(now=JANUARY_OVER)
    load(at=JANUARY_OVER + timedelta(days=2))
    assert ReportSchedule.objects.get(service=legacy).next_report_at == datetime(
        2027, 3, 1, 5, 0, tzinfo=UTC
    )
    reports_send_due(now=JANUARY_OVER + timedelta(days=2))
    assert len(outbox()) == 4


def test_beat_runs_the_sweep():
    assert any(
        entry["task"] == "reports.tasks.send_period_reports"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_email_once(legacy):
    """Two workers sweeping at the same moment (PostgreSQL row locks, SKIP LOCKED): every
    recipient still has exactly one email for January."""
    results = run_together(
        lambda: reports_send_due(now=JANUARY_OVER), lambda: reports_send_due(now=JANUARY_OVER)
    )
    assert len(outbox()) == 4
    assert sum(result.get("emails", 0) for result in results) == 4
