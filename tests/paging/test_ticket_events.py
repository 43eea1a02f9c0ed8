"""Ticket and SLA events page the plan's destinations, recorded in the event's transaction,
once each, filtered by priority and tier: ``ticket.created`` (web, API, email all go through
``ticket_create``), ``sla.warned`` and ``sla.breached`` from the SLA sweep, and
``ticket.escalated`` (the sweep or staff), all with the PagerDuty ``dedup_key`` of the ticket."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from paging.models import Delivery
from paging.services import deliveries_send_due
from sla.models import Service
from tests import factories
from tests.paging.conftest import load_plan_text
from tickets.escalation import escalate_lapsed_tickets
from tickets.services import customer_add_service, ticket_create, ticket_escalate

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)  # 03:00: nobody is at a desk

PLAN = """
service: {slug: paged, name: Paged service}
priorities:
  - {code: P0, name: Critical, response: 20m, resolution: 4h}
  - {code: P2, name: Normal, response: 4h}
tiers:
  - {level: 1, name: Helpdesk}
  - {level: 2, name: Dev Team}
  - {level: 3, name: SRE, on_call: true}
escalation:
  warn_at: 50%
notify:
  - name: pager
    kind: pagerduty
    secret_env: TEST_PAGING_PD
    events: [ticket.created, ticket.escalated, sla.breached]
    priorities: [P0]
  - name: chat
    kind: slack
    secret_env: TEST_PAGING_SLACK
    events: [sla.warned, sla.breached, ticket.escalated]
    tiers: [2, 3]
"""


@pytest.fixture
def paged(db, monkeypatch, receiver):
    monkeypatch.setenv("TEST_PAGING_PD", "pd-routing-key")
    monkeypatch.setenv("TEST_PAGING_SLACK", receiver.url("/slack"))
    load_plan_text(PLAN)
    return Service.objects.get(slug="paged")


@pytest.fixture
def customer(paged):
    user = factories.CustomerFactory()
    customer_add_service(customer=user, service=paged)
    return user


def open_ticket(customer, service, code):
    return ticket_create(
        customer=customer, service=service, priority=code, subject="Down", description="All down"
    )


def rows():
    return sorted(
        (row.event, row.destination.name, row.payload["tier"])
        for row in Delivery.objects.select_related("destination")
    )


@pytest.mark.django_db(transaction=True)
def test_urgent_ticket_pages_at_creation_and_through_the_sla(paged, customer, receiver):
    """A P0 ticket at 03:00 pages PagerDuty at once (a P2 does not: the priorities filter);
    at half its response time the chat hears it is at risk only once it is in a tier the chat
    filters on; at the breach it is escalated to Tier 2: PagerDuty gets the breach and the
    escalation under the ticket's one dedup_key, the chat too. The sweep run again records
    nothing more."""
    with time_machine.travel(NOW, tick=False):
        ticket = open_ticket(customer, paged, "P0")
        open_ticket(customer, paged, "P2")
    assert rows() == [("ticket.created", "pager", 1)]
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        escalate_lapsed_tickets()
    # The warning came at Tier 1; the chat only wants tiers 2 and 3.
    assert rows() == [("ticket.created", "pager", 1)]
    with time_machine.travel(NOW + dt.timedelta(minutes=21), tick=False):
        escalate_lapsed_tickets()
        escalate_lapsed_tickets()
    assert rows() == [
        ("sla.breached", "pager", 1),
        ("ticket.created", "pager", 1),
        ("ticket.escalated", "chat", 2),
        ("ticket.escalated", "pager", 2),
    ]
    with time_machine.travel(NOW + dt.timedelta(minutes=22), tick=False):
        assert deliveries_send_due() == 4
    pagerduty = [r.json() for r in receiver.requests if r.path == "/v2/enqueue"]
    assert {event["dedup_key"] for event in pagerduty} == {f"ticket-{ticket.pk}"}
    assert all(event["payload"]["severity"] == "critical" for event in pagerduty)
    (chat,) = [r.json() for r in receiver.requests if r.path == "/slack"]
    assert "escalated to Tier 2" in chat["text"]


@pytest.mark.django_db(transaction=True)
def test_staff_escalation_pages_once_and_a_rollback_pages_nobody(paged, customer):
    """Staff escalating a ticket record ``ticket.escalated`` in the new tier; an escalation
    whose transaction rolls back leaves no page behind."""
    staff = factories.StaffFactory(tier=3)
    with time_machine.travel(NOW, tick=False):
        ticket = open_ticket(customer, paged, "P2")
        with pytest.raises(RuntimeError), transaction.atomic():
            ticket_escalate(ticket=ticket, by=staff, reason="needs devs")
            raise RuntimeError("rolled back")
        assert rows() == []
        ticket_escalate(ticket=ticket, by=staff, reason="needs devs")
    assert rows() == [("ticket.escalated", "chat", 2)]
