"""XSafe's plan walked through February 2027 on the shipped file (docs/plans.md, the promise
table): every timer around the clock (no support hours in the seed) and told to the customer; a
P0 pages the SRE on-call rotation (PagerDuty) the moment it is filed, and so does a ticket Tier 1
escalates by hand into Tier 3; Sunday 02:00–04:00 UTC
downtime announced 48 hours ahead by email and the dashboard banner; the weekly, monthly and
quarterly chores and the backup checks as dated items; the DR drill met exactly on its bare
RTO 1 h / RPO 5 min; the month's uptime per priority against 99.99 / 99.9 / 99.5 %."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command

from incidents import services as incident_services
from maintenance.models import Subscription
from maintenance.notices import notices_send_due
from notifications.models import Notification
from paging.models import Delivery
from routine.models import RoutineItem
from routine.services import routine_item_record_results, routine_items_create
from sla.models import Service
from tests import factories
from tickets import services as ticket_services
from tickets.emails import received_key
from uptime.reports import monthly_report

pytestmark = pytest.mark.django_db

PLANS = Path(__file__).resolve().parents[2] / "plans"


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_xsafe_promises_through_february_2027(client):
    with at(datetime(2027, 2, 1, 8, 0, tzinfo=UTC)):  # Monday
        call_command("load_plan", str(PLANS / "xsafe-erp.yaml"), stdout=io.StringIO())
    xsafe = Service.objects.get(slug="xsafe-erp")
    customer = factories.CustomerFactory(services=[xsafe], email="ann@acme.example")
    sre = factories.StaffFactory(tier=3, email="sre@xsafe.example")

    # P2 (Medium): 4 hours to respond, 2 days to resolve, around the clock — filed Friday
    # 22:00 UTC, answered by Saturday 02:00 and resolved by Sunday 22:00, weekend included.
    with at(datetime(2027, 2, 5, 22, 0, tzinfo=UTC)):
        medium = ticket_services.ticket_create(
            customer=customer, service=xsafe, priority="P2", subject="Typo", description="x"
        )
    assert medium.response_due_at == datetime(2027, 2, 6, 2, 0, tzinfo=UTC)
    assert medium.resolution_due_at == datetime(2027, 2, 7, 22, 0, tzinfo=UTC)
    confirmation = Notification.objects.get(key=received_key(medium)).body_text
    assert "We will respond by Sat 6 Feb 2027 02:00 UTC." in confirmation
    assert "We aim to resolve it by Sun 7 Feb 2027 22:00 UTC." in confirmation

    # P0 (Critical): 15 minutes and 4 hours, Saturday night as any time; the SRE rotation is
    # paged (PagerDuty) when it is filed, once, and no page for the P2.
    with at(datetime(2027, 2, 6, 23, 0, tzinfo=UTC)):
        critical = ticket_services.ticket_create(
            customer=customer, service=xsafe, priority="P0", subject="Down", description="x"
        )
    assert critical.response_due_at == datetime(2027, 2, 6, 23, 15, tzinfo=UTC)
    assert critical.resolution_due_at == datetime(2027, 2, 7, 3, 0, tzinfo=UTC)
    pages = Delivery.objects.filter(destination__service=xsafe, event="ticket.created")
    assert [(page.destination.name, page.payload.get("dedup_key")) for page in pages] == [
        ("sre-pagerduty", pages[0].payload.get("dedup_key"))
    ]
    assert pages.count() == 1

    # "Escalation: via Jira ticket assigned by Tier 1": the Helpdesk moves the P2 to the Dev Team
    # by hand (no page: Tier 2 is not the rotation); into Tier 3, the rotation is paged.
    helpdesk = factories.StaffFactory(tier=1, email="desk@xsafe.example")
    with at(datetime(2027, 2, 6, 9, 0, tzinfo=UTC)):
        ticket_services.ticket_escalate(ticket=medium, by=helpdesk, reason="Jira DEV-1")
        medium.refresh_from_db()
        assert medium.tier == 2
        escalated = Delivery.objects.filter(destination__service=xsafe, event="ticket.escalated")
        assert not escalated.exists()
    with at(datetime(2027, 2, 6, 9, 30, tzinfo=UTC)):
        ticket_services.ticket_escalate(ticket=medium, by=helpdesk, reason="Database")
    assert [page.destination.name for page in escalated] == ["sre-escalations"]

    # Sunday 14 Feb 02:00–04:00 UTC downtime: subscribers emailed 48 hours ahead (not before),
    # once, and the banner shown on the customer's dashboard.
    Subscription.objects.create(
        service=xsafe, email="ops@acme.example", confirmed_at=datetime(2027, 2, 1, tzinfo=UTC)
    )
    window = datetime(2027, 2, 14, 2, 0, tzinfo=UTC)
    with at(window - timedelta(hours=48, minutes=1)):
        assert notices_send_due() == 0
    before = set(Notification.objects.values_list("pk", flat=True))
    with at(window - timedelta(hours=48)):
        assert notices_send_due() == 2
        assert notices_send_due() == 0
        client.force_login(customer)
        cache.clear()
        assert "maintenance-banner" in client.get("/").content.decode()
    notices = Notification.objects.exclude(pk__in=before)
    # The subscriber and the service's customer, each once.
    assert sorted(notices.values_list("to", flat=True)) == ["ann@acme.example", "ops@acme.example"]

    # The chores as dated items: on Monday 8 Feb the daily full backup and WAL checks, the
    # weekly backup verification and log rotation, February's patches, performance review and
    # S3 check, the quarter's upgrade and DR drill — each once, however often the job runs.
    monday = datetime(2027, 2, 8, 6, 0, tzinfo=UTC)
    routine_items_create(now=monday, service=xsafe)
    routine_items_create(now=monday, service=xsafe)
    current = {
        "daily": date(2027, 2, 8),
        "weekly": date(2027, 2, 8),
        "monthly": date(2027, 2, 1),
        "quarterly": date(2027, 1, 1),
    }
    items = {
        item.task.name: item
        for item in RoutineItem.objects.filter(service=xsafe).select_related("task")
        if item.period_start == current[item.every]
    }
    by_every = {}
    for name, item in items.items():
        by_every.setdefault(item.every, set()).add(name)
    assert by_every == {
        "daily": {
            "Full daily database backup taken (kept 30 days)",
            "Verify WAL shipping continuous (every 5 minutes, PITR)",
        },
        "weekly": {"Database backups verification", "Log rotation"},
        "monthly": {
            "Security patches (OS & dependencies)",
            "Performance review",
            "S3 versioning and cross-region replication enabled",
        },
        "quarterly": {"Major version upgrades", "Disaster recovery drill"},
    }
    assert (
        RoutineItem.objects.filter(
            service=xsafe, task__name="Log rotation", period_start=date(2027, 2, 8)
        ).count()
        == 1
    )

    # The DR drill: "RTO 1 hour", "RPO 5 minutes" are bare, so a drill exactly on them meets.
    drill = routine_item_record_results(
        item=items["Disaster recovery drill"],
        by=sre,
        rto_achieved="1h",
        rpo_achieved="5m",
        now=monday,
    )
    assert (drill.rto_target, drill.rpo_target, drill.rto_met, drill.rpo_met) == (
        "1h",
        "5m",
        True,
        True,
    )

    # A published 5-minute P0 outage on 16 February: February's 99.99 % for P0 allows 4.03
    # minutes, so P0 is missed while P1 (99.9 %) and P2 (99.5 %) are met; P3 has no guarantee.
    started = datetime(2027, 2, 16, 10, 0, tzinfo=UTC)
    with at(started):
        outage = incident_services.incident_open(
            service=xsafe, severity="P0", title="Down", by=sre, impact="major_outage"
        )
        # Published outages are what the uptime report counts (a draft is not downtime yet).
        incident_services.incident_publish(incident=outage, by=sre)
    with at(started + timedelta(minutes=5)):
        incident_services.incident_resolve(incident=outage, by=sre)
    february = monthly_report(
        services=[xsafe], first=date(2027, 2, 1), now=datetime(2027, 3, 1, tzinfo=UTC)
    )[0]
    states = {
        row.label.split(" ")[0]: (Decimal(str(row.target)), row.state)
        for row in february.priorities
    }
    # P3's "N/A": no guarantee, so no line.
    assert states == {
        "P0": (Decimal("99.99"), "missed"),
        "P1": (Decimal("99.9"), "met"),
        "P2": (Decimal("99.5"), "met"),
    }
