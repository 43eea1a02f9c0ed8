"""The XSafe seed's story on the shipped plan (plans/xsafe-erp.yaml): a P0 "System down" filed
at 03:00 on a Saturday reaches the on-call SRE (the Tier 3 PagerDuty rotation) within the
minute — a PagerDuty trigger sent by the every-minute beat sweep even when the per-page task
is lost — and its resolution closes that PagerDuty alert with the same dedup_key. An incident
opened at night reaches the rotation's primary by email too."""

import datetime as dt
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from incidents.services import incident_open
from notifications.models import Notification
from paging.models import OnCallPage
from paging.tasks import send_pending_pages
from sla.models import Service
from tests import factories
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_set_status

PLANS = Path(__file__).resolve().parents[2] / "plans"
SATURDAY_3AM = dt.datetime(2027, 2, 6, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
def xsafe(db, monkeypatch, receiver):
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY_XSAFE", "xsafe-routing-key")
    with time_machine.travel(dt.datetime(2027, 2, 1, 8, 0, tzinfo=dt.UTC), tick=False):
        call_command("load_plan", str(PLANS / "xsafe-erp.yaml"), stdout=io.StringIO())
    service = Service.objects.get(slug="xsafe-erp")
    for position, email in enumerate(["sre1@xsafe.example", "sre2@xsafe.example"]):
        user = factories.StaffFactory(tier=3, email=email)
        factories.OnCallMemberFactory(service=service, tier_level=3, user=user, position=position)
    return service


@pytest.mark.django_db(transaction=True)
def test_p0_system_down_at_night_reaches_the_on_call_sre_within_minutes(xsafe, receiver):
    customer = factories.CustomerFactory(services=[xsafe])
    with time_machine.travel(SATURDAY_3AM, tick=False):
        ticket = ticket_create(
            customer=customer,
            service=xsafe,
            priority="P0",
            subject="System down",
            description="Nobody can sign in to the ERP.",
        )
    # The per-page task's broker is the tests' in-memory one, which nobody reads: the beat
    # sweep, a minute later, is what sends it (as in production when the broker is down).
    with time_machine.travel(SATURDAY_3AM + dt.timedelta(minutes=1), tick=False):
        send_pending_pages()
    (trigger,) = [request.json() for request in receiver.requests]
    assert trigger["routing_key"] == "xsafe-routing-key"
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == f"ticket-{ticket.pk}"
    assert trigger["payload"]["severity"] == "critical"
    assert "System down" in trigger["payload"]["summary"]
    assert trigger["links"][0]["href"].endswith(f"/admin/tickets/ticket/{ticket.pk}/change/")

    sre = factories.StaffFactory(tier=3)
    with time_machine.travel(SATURDAY_3AM + dt.timedelta(minutes=40), tick=False):
        ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, by=sre)
        send_pending_pages()
    assert [(r.json()["event_action"], r.json()["dedup_key"]) for r in receiver.requests] == [
        ("trigger", f"ticket-{ticket.pk}"),
        ("resolve", f"ticket-{ticket.pk}"),
    ]


@pytest.mark.django_db(transaction=True)
def test_an_incident_at_night_reaches_the_rotations_primary(xsafe, receiver):
    """An incident (P0, opened by hand at 03:00) triggers PagerDuty and emails this week's Tier 3
    primary an acknowledge link at once; the secondary only if nobody acknowledged in 10 min."""
    staff = factories.StaffFactory(tier=3)
    with time_machine.travel(SATURDAY_3AM, tick=False):
        incident = incident_open(service=xsafe, severity="P0", title="DB down", by=staff)
    page = OnCallPage.objects.get()
    assert page.tier_level == 3 and page.dedup_key == f"incident-{incident.pk}"
    # The weekly rotation (handoff Monday 09:00) decides which of the two is primary this week.
    assert {page.primary.email, page.secondary.email} == {
        "sre1@xsafe.example",
        "sre2@xsafe.example",
    }
    mail = Notification.objects.get(key__startswith="oncall:")
    assert mail.to == page.primary.email and "/paging/acknowledge/" in mail.body_text
    with time_machine.travel(SATURDAY_3AM + dt.timedelta(minutes=1), tick=False):
        send_pending_pages()
    assert [r.json()["dedup_key"] for r in receiver.requests] == [f"incident-{incident.pk}"]
    assert Notification.objects.filter(key__startswith="oncall:").count() == 1
    with time_machine.travel(SATURDAY_3AM + dt.timedelta(minutes=10), tick=False):
        send_pending_pages()
    assert sorted(
        Notification.objects.filter(key__startswith="oncall:").values_list("to", flat=True)
    ) == ["sre1@xsafe.example", "sre2@xsafe.example"]
