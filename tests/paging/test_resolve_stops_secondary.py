"""A ticket or incident resolved (or closed) before anyone acknowledged its on-call page stops
the page: the sweep past the acknowledgement time tells the secondary nothing. The page is
recorded as closed (who, when, why), not as acknowledged; a reopened ticket escalated into an
on-call tier again is a new page."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, transaction

from incidents.services import incident_open, incident_resolve
from notifications.models import Notification
from paging.models import OnCallPage
from paging.oncall import on_call_page_acknowledge, on_call_pages_escalate_due
from paging.tasks import send_pending_pages
from sla.models import Service
from tests import factories
from tests.paging.conftest import load_plan_text
from tickets.escalation import escalate_manually
from tickets.models import Ticket
from tickets.services import (
    _locked,
    customer_add_service,
    ticket_create,
    ticket_set_status,
)

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)  # Wednesday 03:00
Status = Ticket.Status

PLAN = """
service: {slug: sre, name: SRE service}
priorities:
  - {code: P0, name: Critical, response: 15m, resolution: 4h, start_tier: 2}
  - {code: P2, name: Normal, response: 4h}
tiers:
  - {level: 1, name: Helpdesk}
  - {level: 2, name: SRE, on_call: true}
  - {level: 3, name: Platform, on_call: true}
on_call:
  handoff: mon 09:00
  layers: [primary, secondary]
  acknowledge: 10m
"""


def minutes(n):
    return NOW + dt.timedelta(minutes=n)


@pytest.fixture
def sre(db):
    load_plan_text(PLAN)
    service = Service.objects.get(slug="sre")
    for level in (2, 3):
        for position, name in enumerate(["primary", "secondary"]):
            user = factories.StaffFactory(tier=level, email=f"{name}{level}@example.com")
            factories.OnCallMemberFactory(
                service=service, tier_level=level, user=user, position=position
            )
    return service


@pytest.fixture
def customer(sre):
    user = factories.CustomerFactory()
    customer_add_service(customer=user, service=sre)
    return user


@pytest.fixture
def staff(sre):
    return factories.StaffFactory(tier=3, email="lead@example.com", first_name="Lead")


def on_call_mail():
    return sorted(
        (row.key.rsplit(":", 1)[1], row.to)
        for row in Notification.objects.filter(key__startswith="oncall:")
    )


def open_p0(customer, service):
    with time_machine.travel(NOW, tick=False):
        return ticket_create(
            customer=customer, service=service, priority="P0", subject="Down", description="Down"
        )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_ticket_resolved_before_acknowledgement_pages_no_secondary(sre, customer, staff, status):
    """P0 at 03:00: the primary is paged. Resolved (or closed) at 03:05, nobody having
    acknowledged: the sweep at 03:15 tells the secondary nothing. The page says it was closed by
    the resolution, by whom and when, and is not marked acknowledged."""
    ticket = open_p0(customer, sre)
    page = OnCallPage.objects.get()
    assert on_call_mail() == [("primary", "primary2@example.com")]
    assert page.secondary_due_at == minutes(10)
    with time_machine.travel(minutes(5), tick=False):
        ticket_set_status(ticket=ticket, status=status, by=staff)
    with time_machine.travel(minutes(15), tick=False):
        send_pending_pages()
    assert on_call_mail() == [("primary", "primary2@example.com")]
    page.refresh_from_db()
    assert page.secondary_due_at is None and page.secondary_told_at is None
    assert page.closed_at == minutes(5) and page.closed_by == staff
    expected = "ticket-resolved" if status == Status.RESOLVED else "ticket-closed"
    assert page.closed_reason == expected
    assert page.acknowledged_at is None and page.acknowledged_by is None


@pytest.mark.django_db(transaction=True)
def test_closing_again_keeps_the_first_record_and_acknowledging_a_closed_page_does_nothing(
    client, sre, customer, staff
):
    """Closing the resolved ticket changes nothing on the page (still "resolved", at 03:05);
    the primary's link then shows it closed and its POST acknowledges nothing."""
    ticket = open_p0(customer, sre)
    with time_machine.travel(minutes(5), tick=False):
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
    with time_machine.travel(minutes(7), tick=False):
        ticket_set_status(ticket=ticket, status=Status.CLOSED, by=staff)
    page = OnCallPage.objects.get()
    assert (page.closed_at, page.closed_reason) == (minutes(5), "ticket-resolved")
    body = Notification.objects.get(key__startswith="oncall:").body_text
    link = "/paging/acknowledge/" + body.split("/paging/acknowledge/")[1].split()[0]
    response = client.get(link)
    assert b"Ticket resolved before acknowledgement" in response.content
    client.post(link)
    page.refresh_from_db()
    assert page.acknowledged_at is None


@pytest.mark.django_db(transaction=True)
def test_an_acknowledged_page_stays_acknowledged_when_resolved(sre, customer, staff):
    """Acknowledged first, then resolved: the page keeps its acknowledgement, not closed."""
    ticket = open_p0(customer, sre)
    page = OnCallPage.objects.get()
    with time_machine.travel(minutes(2), tick=False):
        on_call_page_acknowledge(page=page, by=page.primary, via=OnCallPage.Via.ADMIN)
    with time_machine.travel(minutes(5), tick=False):
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
    page.refresh_from_db()
    assert page.acknowledged_at == minutes(2) and page.closed_at is None


@pytest.mark.django_db(transaction=True)
def test_incident_resolved_before_acknowledgement_pages_no_secondary(sre, staff):
    """An incident opened at 03:00 pages its on-call tier's primary; resolved at 03:05, the
    sweep at 03:15 tells the secondary nothing."""
    with time_machine.travel(NOW, tick=False):
        incident = incident_open(service=sre, severity="P0", title="DB down", by=staff)
    assert on_call_mail() == [("primary", "primary3@example.com")]
    with time_machine.travel(minutes(5), tick=False):
        incident_resolve(incident=incident, by=staff)
    with time_machine.travel(minutes(15), tick=False):
        send_pending_pages()
    assert on_call_mail() == [("primary", "primary3@example.com")]
    page = OnCallPage.objects.get()
    assert (page.closed_at, page.closed_by, page.closed_reason) == (
        minutes(5),
        staff,
        "incident-resolved",
    )
    assert page.acknowledged_at is None and page.secondary_told_at is None


@pytest.mark.django_db(transaction=True)
def test_reopened_ticket_escalated_into_an_on_call_tier_is_a_new_page(sre, customer, staff):
    """Resolved before acknowledgement (page closed), reopened by the customer: reopening
    pages nobody; escalated into Tier 3 (on call) it is a new page, whose secondary is told
    when nobody acknowledges it."""
    ticket = open_p0(customer, sre)
    with time_machine.travel(minutes(5), tick=False):
        ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
    with time_machine.travel(minutes(6), tick=False):
        ticket_set_status(ticket=ticket, status=Status.OPEN, by=customer)
    assert OnCallPage.objects.count() == 1
    with time_machine.travel(minutes(20), tick=False), transaction.atomic():
        escalate_manually(ticket=_locked(ticket), by=staff, reason="back again", now=minutes(20))
    pages = list(OnCallPage.objects.order_by("created_at"))
    assert len(pages) == 2
    assert pages[0].closed_at == minutes(5)
    assert pages[1].closed_at is None and pages[1].secondary_due_at == minutes(30)
    with time_machine.travel(minutes(30), tick=False):
        send_pending_pages()
    assert on_call_mail() == [
        ("primary", "primary2@example.com"),
        ("primary", "primary3@example.com"),
        ("secondary", "secondary3@example.com"),
    ]


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks: PostgreSQL only"
)


def in_thread(job):
    """Run ``job`` in a thread with its own connection; returns (thread, outcome dict)."""
    outcome = {}

    def run():
        try:
            outcome["result"] = job()
        except BaseException as exc:  # reported in the test's thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_resolution_holding_the_page_makes_the_concurrent_sweep_skip_it(sre, customer, staff):
    """At 03:12 (past the acknowledgement time, the sweep not yet run) a resolution and the
    sweep meet: the resolution's transaction holds the page's row; the sweep skips it without
    waiting, and once the resolution commits no sweep ever tells the secondary."""
    ticket = open_p0(customer, sre)
    held, release = threading.Event(), threading.Event()

    def resolve():
        with transaction.atomic():
            ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
            held.set()
            assert release.wait(30)

    with time_machine.travel(minutes(12), tick=False):
        thread, outcome = in_thread(resolve)
        assert held.wait(30)
        sweeper, swept = in_thread(lambda: on_call_pages_escalate_due(now=minutes(12)))
        sweeper.join(30)
        assert not sweeper.is_alive(), "the sweep waited for the resolution's lock"
        release.set()
        thread.join(30)
    assert "error" not in outcome and "error" not in swept, (outcome, swept)
    assert swept["result"] == {}
    on_call_pages_escalate_due(now=minutes(15))
    assert on_call_mail() == [("primary", "primary2@example.com")]
    page = OnCallPage.objects.get()
    assert page.closed_reason == "ticket-resolved" and page.secondary_told_at is None


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_sweep_holding_the_page_first_tells_the_secondary_once_then_it_is_closed(
    sre, customer, staff
):
    """The other order: the sweep has locked the page and is telling the secondary when the
    ticket is resolved. The resolution waits for the sweep's commit, then closes the page: the
    secondary was told once (too late to stop) and the page says both."""
    ticket = open_p0(customer, sre)
    held, release = threading.Event(), threading.Event()

    def sweep():
        with transaction.atomic():
            result = on_call_pages_escalate_due(now=minutes(12))
            held.set()
            assert release.wait(30)
            return result

    with time_machine.travel(minutes(12), tick=False):
        sweeper, swept = in_thread(sweep)
        assert held.wait(30)
        thread, outcome = in_thread(
            lambda: ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
        )
        thread.join(1)
        assert thread.is_alive(), "the resolution did not wait for the sweep's row lock"
        release.set()
        sweeper.join(30)
        thread.join(30)
    assert "error" not in outcome and "error" not in swept, (outcome, swept)
    assert swept["result"] == {"secondary_told": 1}
    on_call_pages_escalate_due(now=minutes(15))
    assert on_call_mail() == [
        ("primary", "primary2@example.com"),
        ("secondary", "secondary2@example.com"),
    ]
    page = OnCallPage.objects.get()
    assert page.secondary_told_at == minutes(12) and page.closed_reason == "ticket-resolved"
