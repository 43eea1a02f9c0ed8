"""Resolving a ticket resolves its PagerDuty page: a ``resolve`` with the trigger's
``dedup_key`` to the destination the trigger went to, recorded once in the ticket's
transaction and sent by the delivery engine to a real loopback receiver."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from paging.models import Delivery
from paging.services import deliveries_send_due
from sla.models import Service
from tests import factories
from tests.paging.conftest import load_plan_text
from tickets.models import Ticket
from tickets.services import customer_add_service, ticket_create, ticket_set_status

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
Status = Ticket.Status

PLAN = """
service: {slug: paged, name: Paged service}
priorities:
  - {code: P0, name: Critical, response: 20m, resolution: 4h}
  - {code: P2, name: Normal, response: 4h}
tiers:
  - {level: 1, name: Helpdesk}
  - {level: 2, name: SRE, on_call: true}
notify:
  - name: pager
    kind: pagerduty
    secret_env: TEST_RESOLVE_PD
    events: [ticket.created]
    priorities: [P0]
  - name: other-pager
    kind: pagerduty
    secret_env: TEST_RESOLVE_PD
    events: [ticket.escalated]
  - name: chat
    kind: slack
    secret_env: TEST_RESOLVE_SLACK
    events: [ticket.created]
"""


@pytest.fixture
def paged(db, monkeypatch, receiver):
    monkeypatch.setenv("TEST_RESOLVE_PD", "pd-routing-key")
    monkeypatch.setenv("TEST_RESOLVE_SLACK", receiver.url("/slack"))
    load_plan_text(PLAN)
    return Service.objects.get(slug="paged")


@pytest.fixture
def customer(paged):
    user = factories.CustomerFactory()
    customer_add_service(customer=user, service=paged)
    return user


def pagerduty_sent(receiver):
    return [
        (request.json()["event_action"], request.json()["dedup_key"])
        for request in receiver.requests
        if request.path == "/v2/enqueue"
    ]


def open_ticket(customer, service, priority="P0"):
    with time_machine.travel(NOW, tick=False):
        return ticket_create(
            customer=customer, service=service, priority=priority, subject="Down", description="x"
        )


@pytest.mark.django_db(transaction=True)
def test_resolving_a_paged_ticket_resolves_its_page_once(paged, customer, receiver):
    """P0 filed: a trigger to ``pager`` (and a Slack message). Staff resolve it: one
    ``resolve`` with the same dedup_key to ``pager`` only (``other-pager`` was never
    triggered, Slack has nothing to resolve). Closing it afterwards, or resolving again after
    the customer reopened it, sends nothing more: the page is resolved already."""
    staff = factories.StaffFactory(tier=2)
    ticket = open_ticket(customer, paged)
    deliveries_send_due()
    assert pagerduty_sent(receiver) == [("trigger", f"ticket-{ticket.pk}")]
    trigger = Delivery.objects.get(event="ticket.created", destination__kind="pagerduty")

    ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
    resolve = Delivery.objects.get(event="ticket.resolved")
    assert resolve.destination_id == trigger.destination_id
    assert resolve.key == f"ticket:{ticket.pk}:resolved:{trigger.pk}:{trigger.destination_id}"
    deliveries_send_due()
    assert pagerduty_sent(receiver) == [
        ("trigger", f"ticket-{ticket.pk}"),
        ("resolve", f"ticket-{ticket.pk}"),
    ]
    (sent,) = [r.json() for r in receiver.requests if r.json().get("event_action") == "resolve"]
    assert sent["routing_key"] == "pd-routing-key"
    assert "payload" not in sent  # Events API v2: a resolve carries only the key

    ticket_set_status(ticket=ticket, status=Status.OPEN, by=customer)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
    ticket_set_status(ticket=ticket, status=Status.CLOSED, by=customer)
    deliveries_send_due()
    assert Delivery.objects.filter(event="ticket.resolved").count() == 1
    assert len(pagerduty_sent(receiver)) == 2
    assert Delivery.objects.get(event="ticket.resolved").status == Delivery.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_closing_a_paged_ticket_resolves_it_too(paged, customer, receiver):
    """The customer closes the P0 without it being resolved first: the same resolve."""
    ticket = open_ticket(customer, paged)
    ticket_set_status(ticket=ticket, status=Status.CLOSED, by=customer)
    deliveries_send_due()
    assert sorted(pagerduty_sent(receiver)) == [
        ("resolve", f"ticket-{ticket.pk}"),
        ("trigger", f"ticket-{ticket.pk}"),
    ]


@pytest.mark.django_db(transaction=True)
def test_unpaged_ticket_and_rolled_back_resolution_record_nothing(paged, customer, receiver):
    """A P2 never triggered PagerDuty: resolving it records nothing. A resolution rolled back
    with its transaction records no resolve either."""
    staff = factories.StaffFactory(tier=2)
    normal = open_ticket(customer, paged, priority="P2")
    ticket_set_status(ticket=normal, status=Status.RESOLVED, by=staff)
    assert not Delivery.objects.filter(event="ticket.resolved").exists()

    critical = open_ticket(customer, paged)
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_set_status(ticket=critical, status=Status.RESOLVED, by=staff)
        raise RuntimeError("the request failed after the write")
    assert not Delivery.objects.filter(event="ticket.resolved").exists()
    ticket_set_status(ticket=critical, status=Status.RESOLVED, by=staff)
    assert Delivery.objects.filter(event="ticket.resolved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_reopened_ticket_paged_again_is_resolved_again(paged, customer, receiver):
    """Resolved, reopened, escalated into the on-call tier (a new trigger to ``other-pager``,
    which opens a new PagerDuty alert under the same key): resolving it again resolves that
    destination's alert; ``pager``, resolved already, hears nothing more."""
    from tickets.services import ticket_escalate

    staff = factories.StaffFactory(tier=2)
    ticket = open_ticket(customer, paged)
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
    ticket_set_status(ticket=ticket, status=Status.OPEN, by=customer)
    ticket_escalate(ticket=ticket, by=factories.StaffFactory(tier=1), reason="worse")
    ticket_set_status(ticket=ticket, status=Status.RESOLVED, by=staff)
    deliveries_send_due()
    rows = Delivery.objects.filter(destination__kind="pagerduty").order_by("pk")
    assert [(row.destination.name, row.event, row.payload["action"]) for row in rows] == [
        ("pager", "ticket.created", "trigger"),
        ("pager", "ticket.resolved", "resolve"),
        ("other-pager", "ticket.escalated", "trigger"),
        ("other-pager", "ticket.resolved", "resolve"),
    ]
    assert {row.dedup_key for row in rows} == {f"ticket-{ticket.pk}"}
