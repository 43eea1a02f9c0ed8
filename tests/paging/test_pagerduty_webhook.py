"""PagerDuty's acknowledgement comes back: its v3 webhook, posted through Django's test client
to /hooks/pagerduty/<service>/<name>/ with ``X-PagerDuty-Signature`` computed as PagerDuty does
(hex HMAC-SHA256 of the raw body, keyed with the subscription's secret), acknowledges our
on-call page through the same code path as the email link and the admin; a bad signature is
refused with nothing stored or changed; the same event twice has one effect; a key we never
paged is answered 2xx and recorded."""

import datetime as dt
import hashlib
import hmac
import json
import logging

import pytest
import time_machine
from django.urls import reverse

from incidents.services import incident_open
from notifications.models import Notification
from paging.models import OnCallPage, PagerDutyWebhookEvent
from paging.services import deliveries_send_due
from paging.tasks import send_pending_pages
from sla.models import Service
from sla.plan import PlanInvalid, parse_plan
from sla.plan.export import service_export_yaml
from tests import factories
from tests.paging.conftest import SRE_ON_CALL_PLAN, load_plan_text
from tickets.services import customer_add_service, ticket_create

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)  # Wednesday 03:00
SECRET = "pd-webhook-signing-secret-1"

PLAN = (
    SRE_ON_CALL_PLAN
    + """notify:
  - name: sre-pager
    kind: pagerduty
    secret_env: TEST_PD_ROUTING
    webhook_secret_env: TEST_PD_WEBHOOK
    events: [ticket.created, incident.opened, incident.resolved]
    priorities: [P0]
"""
)

OTHER = """
service: {slug: other, name: Other service}
priorities:
  - {code: P0, name: Critical, response: 15m}
tiers:
  - {level: 1, name: Helpdesk, on_call: true}
notify:
  - name: pager
    kind: pagerduty
    secret_env: TEST_PD_ROUTING
    webhook_secret_env: TEST_PD_WEBHOOK_OTHER
    events: [ticket.created]
  - name: chat
    kind: slack
    secret_env: TEST_PD_ROUTING
    events: [ticket.created]
"""


@pytest.fixture
def sre(db, monkeypatch, receiver):
    monkeypatch.setenv("TEST_PD_ROUTING", "pd-routing-key")
    monkeypatch.setenv("TEST_PD_WEBHOOK", SECRET)
    load_plan_text(PLAN)
    service = Service.objects.get(slug="sre")
    alice = factories.StaffFactory(tier=2, email="alice@example.com")
    bob = factories.StaffFactory(tier=2, email="bob@example.com")
    factories.OnCallMemberFactory(service=service, tier_level=2, user=alice, position=0)
    factories.OnCallMemberFactory(service=service, tier_level=2, user=bob, position=1)
    return service


@pytest.fixture
def customer(sre):
    user = factories.CustomerFactory()
    customer_add_service(customer=user, service=sre)
    return user


def sign(body, secret=SECRET):
    """What PagerDuty puts in X-PagerDuty-Signature (docs: "Verifying Signatures")."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event(event_type, incident_key, *, event_id="01DEN0UTA0EBAFA6BCF0M5N9IS"):
    """A v3 webhook payload shaped as PagerDuty's documentation shows it."""
    return {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2026-12-02T03:04:00.000Z",
            "agent": {
                "html_url": "https://acme.pagerduty.com/users/PLH1HKV",
                "id": "PLH1HKV",
                "self": "https://api.pagerduty.com/users/PLH1HKV",
                "summary": "Alice On-Call",
                "type": "user_reference",
            },
            "client": {"name": "PagerDuty"},
            "data": {
                "id": "PGR0VU2",
                "type": "incident",
                "self": "https://api.pagerduty.com/incidents/PGR0VU2",
                "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
                "number": 2,
                "status": event_type.removeprefix("incident."),
                "incident_key": incident_key,
                "title": "SRE-1 opened: Down",
                "service": {"id": "PF9KMXH", "summary": "SRE", "type": "service_reference"},
                "urgency": "high",
            },
        }
    }


def post(client, payload, *, signature=None, path=None, body=None):
    body = body if body is not None else json.dumps(payload).encode()
    headers = {}
    if signature is not False:
        headers["HTTP_X_PAGERDUTY_SIGNATURE"] = signature or sign(body)
    return client.post(
        path or reverse("paging_hooks:pagerduty", args=["sre", "sre-pager"]),
        data=body,
        content_type="application/json",
        **headers,
    )


def open_p0(customer, service):
    with time_machine.travel(NOW, tick=False):
        return ticket_create(
            customer=customer, service=service, priority="P0", subject="Down", description="x"
        )


def on_call_mail():
    return sorted(
        row.key.rsplit(":", 1)[1] for row in Notification.objects.filter(key__startswith="oncall:")
    )


@pytest.mark.django_db(transaction=True)
def test_pagerduty_acknowledge_stops_the_secondary(client, sre, customer, receiver):
    """A P0 at 03:00: PagerDuty gets a trigger and the primary an on-call email. The on-call
    SRE acknowledges in PagerDuty; its webhook, naming the dedup_key we sent, acknowledges
    our page (via PagerDuty), so the sweep after the acknowledgement time calls nobody."""
    ticket = open_p0(customer, sre)
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        deliveries_send_due()
    (trigger,) = [request.json() for request in receiver.requests]
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == f"ticket-{ticket.pk}"
    page = OnCallPage.objects.get()
    assert page.dedup_key == trigger["dedup_key"]

    with time_machine.travel(NOW + dt.timedelta(minutes=4), tick=False):
        response = post(client, event("incident.acknowledged", trigger["dedup_key"]))
    assert response.status_code == 200
    assert response.json() == {"status": "acknowledged", "acknowledged": 1}
    page.refresh_from_db()
    assert page.acknowledged_at == NOW + dt.timedelta(minutes=4)
    assert page.acknowledged_via == OnCallPage.Via.PAGERDUTY
    assert page.acknowledged_by is None
    assert page.secondary_due_at is None
    row = PagerDutyWebhookEvent.objects.get()
    assert (row.event_type, row.incident_key, row.outcome, row.agent) == (
        "incident.acknowledged",
        f"ticket-{ticket.pk}",
        "acknowledged",
        "Alice On-Call",
    )
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        send_pending_pages()
    assert on_call_mail() == ["primary"]


@pytest.mark.django_db(transaction=True)
def test_without_the_webhook_the_secondary_is_called(sre, customer):
    """The same P0 with no acknowledgement: the secondary is told (the test above is not
    vacuous)."""
    open_p0(customer, sre)
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        send_pending_pages()
    assert on_call_mail() == ["primary", "secondary"]


@pytest.mark.django_db(transaction=True)
def test_the_same_event_twice_has_one_effect(client, sre, customer):
    """PagerDuty redelivers an event it got no 2xx for, with the same id: one row, the page's
    acknowledgement time unchanged. Another event about the same incident (a second ack after
    an unacknowledge) finds it acknowledged already and changes nothing."""
    ticket = open_p0(customer, sre)
    payload = event("incident.acknowledged", f"ticket-{ticket.pk}")
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        assert post(client, payload).json()["status"] == "acknowledged"
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        second = post(client, payload)
        later = post(client, event("incident.acknowledged", f"ticket-{ticket.pk}", event_id="2"))
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert later.json() == {"status": "already", "acknowledged": 0}
    assert PagerDutyWebhookEvent.objects.count() == 2
    page = OnCallPage.objects.get()
    assert page.acknowledged_at == NOW + dt.timedelta(minutes=2)


@pytest.mark.django_db(transaction=True)
def test_bad_signatures_are_refused_and_change_nothing(client, sre, customer, monkeypatch):
    """A replay with a forged or missing signature, a signature over another body, or one made
    with another secret: 401, nothing stored, the page untouched. During PagerDuty's secret
    rotation the header carries two signatures: the one that matches is enough."""
    ticket = open_p0(customer, sre)
    payload = event("incident.acknowledged", f"ticket-{ticket.pk}")
    body = json.dumps(payload).encode()
    refused = [
        post(client, payload, signature=False),
        post(client, payload, signature="v1=" + "0" * 64),
        post(client, payload, signature=sign(body, "another-secret")),
        post(client, payload, signature=sign(body + b" ")),
        post(client, payload, signature=sign(body).replace("v1=", "v0=")),
    ]
    assert [response.status_code for response in refused] == [401] * 5
    monkeypatch.delenv("TEST_PD_WEBHOOK")
    assert post(client, payload).status_code == 401  # unset: every request refused
    assert not PagerDutyWebhookEvent.objects.exists()
    assert OnCallPage.objects.get().acknowledged_at is None
    monkeypatch.setenv("TEST_PD_WEBHOOK", SECRET)
    rotating = f"{sign(body, 'the-old-secret')}, {sign(body)}"
    assert post(client, payload, signature=rotating).status_code == 200
    assert OnCallPage.objects.get().acknowledged_at is not None


@pytest.mark.django_db(transaction=True)
def test_unknown_key_is_answered_and_recorded(client, sre, customer, caplog):
    """A key we have no on-call page for (an incident PagerDuty opened from another source):
    200, so PagerDuty does not retry for two days and disable the subscription, recorded and
    logged; our pages stay unacknowledged."""
    open_p0(customer, sre)
    with caplog.at_level(logging.INFO, logger="paging.webhooks"):
        response = post(client, event("incident.acknowledged", "d3640fbd41094207a1c11e58e46b1662"))
    assert response.status_code == 200
    assert response.json()["status"] == "unknown-key"
    assert PagerDutyWebhookEvent.objects.get().outcome == "unknown-key"
    assert "no on-call page has this key" in caplog.text
    assert OnCallPage.objects.get().acknowledged_at is None


@pytest.mark.django_db(transaction=True)
def test_another_services_hook_cannot_acknowledge_our_page(client, sre, customer, monkeypatch):
    """The key is looked up in the hook's own service: another service's subscription (its own
    secret) naming our ticket's key acknowledges nothing."""
    monkeypatch.setenv("TEST_PD_WEBHOOK_OTHER", "other-secret")
    load_plan_text(OTHER)
    ticket = open_p0(customer, sre)
    body = json.dumps(event("incident.acknowledged", f"ticket-{ticket.pk}")).encode()
    path = reverse("paging_hooks:pagerduty", args=["other", "pager"])
    response = post(client, None, body=body, path=path, signature=sign(body, "other-secret"))
    assert response.json()["status"] == "unknown-key"
    assert OnCallPage.objects.get().acknowledged_at is None
    # Our secret on their hook: refused.
    assert post(client, None, body=body, path=path).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_resolved_acknowledges_other_events_are_ignored(client, sre, customer):
    """``incident.resolved`` in PagerDuty means someone took it: our page is acknowledged (the
    ticket itself stays open, staff's to resolve). ``incident.unacknowledged`` or a note are
    recorded and change nothing."""
    ticket = open_p0(customer, sre)
    key = f"ticket-{ticket.pk}"
    ignored = post(client, event("incident.unacknowledged", key, event_id="a"))
    assert ignored.json()["status"] == "ignored"
    assert OnCallPage.objects.get().acknowledged_at is None
    assert post(client, event("incident.resolved", key, event_id="b")).json() == {
        "status": "acknowledged",
        "acknowledged": 1,
    }
    ticket.refresh_from_db()
    assert ticket.is_active
    assert OnCallPage.objects.get().acknowledged_via == "pagerduty"


@pytest.mark.django_db(transaction=True)
def test_an_incidents_page_is_acknowledged_by_its_dedup_key(client, sre, receiver):
    """An incident opened pages PagerDuty with ``incident-<id>`` and the on-call primary; the
    PagerDuty acknowledgement of that key acknowledges the incident's on-call page."""
    staff = factories.StaffFactory(tier=2)
    with time_machine.travel(NOW, tick=False):
        incident = incident_open(service=sre, severity="P0", title="DB down", by=staff)
        deliveries_send_due()
    (trigger,) = [request.json() for request in receiver.requests]
    assert trigger["dedup_key"] == f"incident-{incident.pk}"
    assert post(client, event("incident.acknowledged", trigger["dedup_key"])).status_code == 200
    page = OnCallPage.objects.get()
    assert page.dedup_key == f"incident-{incident.pk}"
    assert page.acknowledged_via == "pagerduty" and page.secondary_due_at is None


@pytest.mark.django_db(transaction=True)
def test_hook_lookup_and_malformed_bodies(client, sre, monkeypatch):
    """Only an active PagerDuty destination naming ``webhook_secret_env`` has a hook (404
    otherwise, before any signature is read); GET is 405; a signed body that is not a v3
    event is 400 and stores nothing."""
    monkeypatch.setenv("TEST_PD_WEBHOOK_OTHER", "other-secret")
    load_plan_text(OTHER)
    hook = reverse("paging_hooks:pagerduty", args=["sre", "sre-pager"])
    assert hook == "/hooks/pagerduty/sre/sre-pager/"
    missing = [
        reverse("paging_hooks:pagerduty", args=["sre", "nope"]),
        reverse("paging_hooks:pagerduty", args=["other", "chat"]),  # a Slack destination
    ]
    for path in missing:
        assert post(client, event("incident.acknowledged", "x"), path=path).status_code == 404
    assert client.get(hook).status_code == 405
    assert post(client, None, body=b"not json").status_code == 400
    assert post(client, None, body=b'{"messages": []}').status_code == 400
    assert not PagerDutyWebhookEvent.objects.exists()
    odd = event("incident.acknowledged", "x")
    odd["event"].update(occurred_at="2026-13-45T00:00:00Z", agent=None, data=[])
    assert post(client, odd).json()["status"] == "unknown-key"  # odd shapes: no 500
    assert PagerDutyWebhookEvent.objects.get().occurred_at is None
    PagerDutyWebhookEvent.objects.all().delete()
    # Dropped from the plan: retired, its hook answers 404.
    load_plan_text(PLAN.split("notify:")[0])
    assert post(client, event("incident.acknowledged", "x")).status_code == 404


def test_plan_validation_and_export(db, sre):
    """``webhook_secret_env`` is a variable name, on a pagerduty entry only; the export writes
    it back."""
    bad_name = PLAN.replace("webhook_secret_env: TEST_PD_WEBHOOK", "webhook_secret_env: s3cret!")
    with pytest.raises(PlanInvalid, match="not an environment variable name"):
        parse_plan(bad_name, "bad.yaml")
    on_slack = PLAN.replace("kind: pagerduty", "kind: slack")
    with pytest.raises(PlanInvalid, match="takes no `webhook_secret_env:`"):
        parse_plan(on_slack, "bad.yaml")
    exported = service_export_yaml(service=sre)
    assert "webhook_secret_env: TEST_PD_WEBHOOK" in exported
    assert SECRET not in exported


def test_unset_webhook_variable_is_a_warning(db, monkeypatch, caplog):
    monkeypatch.delenv("TEST_PD_WEBHOOK", raising=False)
    with caplog.at_level(logging.WARNING, logger="sla.plan"):
        load_plan_text(PLAN)
    assert "environment variable TEST_PD_WEBHOOK is not set" in caplog.text


def test_admin_shows_the_variable_never_the_secret(client, sre, customer):
    """The destination's page names the webhook variable and the hook's URL, never the secret;
    the received events are listed for superusers only."""
    root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    destination = sre.paging_destinations.get()
    page = client.get(reverse("admin:paging_destination_change", args=[destination.pk]))
    text = page.content.decode()
    assert "TEST_PD_WEBHOOK" in text and "/hooks/pagerduty/sre/sre-pager/" in text
    assert SECRET not in text
    events = reverse("admin:paging_pagerdutywebhookevent_changelist")
    assert client.get(events).status_code == 200
    client.force_login(factories.StaffFactory(tier=3))
    assert client.get(events).status_code == 403
