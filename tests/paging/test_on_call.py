"""On-call acknowledgement: with ``on_call.acknowledge`` in the plan, a ticket landing in an
on-call tier (or an incident opening) reaches the rotation's primary at once; the secondary is
told only if nobody acknowledged in time, once; acknowledging (email link, admin) stops it."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from incidents.services import incident_open
from notifications.models import Notification
from paging.models import OnCallPage
from paging.tasks import send_pending_pages
from sla.models import EscalationPolicy, Service
from sla.plan import PlanInvalid, parse_plan
from sla.plan.export import service_export_yaml
from tests import factories
from tests.paging.conftest import SRE_ON_CALL_PLAN, load_plan_text
from tickets.services import customer_add_service, ticket_create

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)  # Wednesday 03:00

PLAN = SRE_ON_CALL_PLAN


@pytest.fixture
def sre(db):
    load_plan_text(PLAN)
    service = Service.objects.get(slug="sre")
    alice = factories.StaffFactory(tier=2, email="alice@example.com", first_name="Alice")
    bob = factories.StaffFactory(tier=2, email="bob@example.com", first_name="Bob")
    factories.OnCallMemberFactory(service=service, tier_level=2, user=alice, position=0)
    factories.OnCallMemberFactory(service=service, tier_level=2, user=bob, position=1)
    return service


@pytest.fixture
def customer(sre):
    user = factories.CustomerFactory()
    customer_add_service(customer=user, service=sre)
    return user


def on_call_mail():
    return sorted(
        (row.key.rsplit(":", 1)[1], row.to)
        for row in Notification.objects.filter(key__startswith="oncall:")
    )


def open_p0(customer, service):
    return ticket_create(
        customer=customer, service=service, priority="P0", subject="Down", description="Down"
    )


def ack_link(to):
    body = Notification.objects.get(key__startswith="oncall:", to=to).body_text
    return re.search(r"https?://[^/\s]+(/paging/acknowledge/[^\s]+/)", body).group(1)


@pytest.mark.django_db(transaction=True)
def test_p0_at_night_pages_the_primary_and_acknowledging_stops_the_secondary(client, sre, customer):
    """A P0 at 03:00 lands in the on-call tier: one on-call email to this week's primary, none
    to the secondary. The link's GET changes nothing; its POST acknowledges; the sweep after
    the acknowledgement time then tells nobody."""
    with time_machine.travel(NOW, tick=False):
        open_p0(customer, sre)
    page = OnCallPage.objects.get()
    primary, secondary = page.primary, page.secondary
    assert {primary.email, secondary.email} == {"alice@example.com", "bob@example.com"}
    assert page.secondary_due_at == NOW + dt.timedelta(minutes=10)
    assert on_call_mail() == [("primary", primary.email)]
    link = ack_link(primary.email)
    with time_machine.travel(NOW + dt.timedelta(minutes=3), tick=False):
        assert client.get(link).status_code == 200
        page.refresh_from_db()
        assert page.acknowledged_at is None
        assert client.post(link).status_code == 302
    page.refresh_from_db()
    assert page.acknowledged_by == primary and page.acknowledged_via == "link"
    assert page.secondary_due_at is None
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        send_pending_pages()
    assert on_call_mail() == [("primary", primary.email)]


@pytest.mark.django_db(transaction=True)
def test_unacknowledged_goes_to_the_secondary_once(sre, customer):
    """Nobody acknowledges: at the acknowledgement time the beat sweep emails the secondary,
    once however often it runs; before it, nothing."""
    with time_machine.travel(NOW, tick=False):
        open_p0(customer, sre)
    page = OnCallPage.objects.get()
    with time_machine.travel(NOW + dt.timedelta(minutes=9), tick=False):
        send_pending_pages()
    assert on_call_mail() == [("primary", page.primary.email)]
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        send_pending_pages()
        send_pending_pages()
    assert on_call_mail() == sorted(
        [("primary", page.primary.email), ("secondary", page.secondary.email)]
    )
    page.refresh_from_db()
    assert page.secondary_told_at == NOW + dt.timedelta(minutes=10)


@pytest.mark.django_db(transaction=True)
def test_admin_acknowledges_and_a_forged_link_is_404(client, sre, customer):
    """The admin's "Acknowledge" takes the page for the member; a tampered token is a 404."""
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    with time_machine.travel(NOW, tick=False):
        open_p0(customer, sre)
    page = OnCallPage.objects.get()
    assert client.get(ack_link(page.primary.email)[:-3] + "x/").status_code == 404
    client.force_login(root)
    changelist = reverse("admin:paging_oncallpage_changelist")
    response = client.post(changelist, {"action": "acknowledge", "_selected_action": [page.pk]})
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.acknowledged_by == root and page.acknowledged_via == "admin"


@pytest.mark.django_db(transaction=True)
def test_incident_opening_pages_the_on_call_tier(sre):
    """An incident (no tier of its own) pages the service's on-call tier's primary."""
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    with time_machine.travel(NOW, tick=False):
        incident = incident_open(service=sre, severity="P0", title="DB down", by=root)
    page = OnCallPage.objects.get()
    assert page.key == f"incident:{incident.pk}:opened" and page.tier_level == 2
    assert on_call_mail() == [("primary", page.primary.email)]


@pytest.mark.django_db(transaction=True)
def test_without_acknowledge_nothing_changes(sre, customer):
    """A plan without ``on_call.acknowledge`` records no on-call page (every layer is told at
    once, as before)."""
    EscalationPolicy.objects.filter(service=sre).update(on_call_acknowledge="")
    with time_machine.travel(NOW, tick=False):
        open_p0(customer, sre)
    assert not OnCallPage.objects.exists()


def test_plan_checks_and_exports_acknowledge(db):
    """``acknowledge`` must be a duration; it is exported back."""
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(PLAN.replace("acknowledge: 10m", "acknowledge: soon"), "bad.yaml")
    assert "on_call.acknowledge" in str(caught.value.errors[0])
    load_plan_text(PLAN)
    exported = service_export_yaml(service=Service.objects.get(slug="sre"))
    assert "acknowledge: 10m" in exported
