"""Pages out: recorded once, sent by workers, retried, given up visibly, signed, SSRF-guarded."""

import base64
import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from paging import kinds, transport
from paging.models import Delivery, Destination
from paging.services import (
    deliveries_send_due,
    delivery_retry,
    delivery_send,
    pages_record,
)
from sla.models import Service
from tests import factories
from tests.paging.conftest import load_plan_text

WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()

PLAN = """
service: {{slug: paged, name: Paged service}}
priorities:
  - {{code: P0, name: Critical, response: 15m}}
  - {{code: P2, name: Normal, response: 4h}}
tiers:
  - {{level: 1, name: Helpdesk}}
  - {{level: 2, name: Dev}}
  - {{level: 3, name: SRE, on_call: true}}
notify:
  - name: hook
    kind: webhook
    url: {url}
    secret_env: TEST_PAGING_WEBHOOK
    events: [incident.opened, incident.resolved, ticket.created]
  - name: pager
    kind: pagerduty
    secret_env: TEST_PAGING_PD
    events: [incident.opened, incident.resolved]
    priorities: [P0]
  - name: chat
    kind: slack
    secret_env: TEST_PAGING_SLACK
    events: [ticket.created]
    tiers: [3]
  - name: teams
    kind: teams
    secret_env: TEST_PAGING_TEAMS
    events: [incident.opened]
"""


@pytest.fixture
def paged(db, receiver, monkeypatch):
    monkeypatch.setenv("TEST_PAGING_WEBHOOK", WHSEC)
    monkeypatch.setenv("TEST_PAGING_PD", "pd-routing-key-0123")
    monkeypatch.setenv("TEST_PAGING_SLACK", receiver.url("/slack/T000/B000/secretpath"))
    monkeypatch.setenv("TEST_PAGING_TEAMS", receiver.url("/teams/workflow/secretsig"))
    load_plan_text(PLAN.format(url=receiver.url("/webhook")))
    return Service.objects.get(slug="paged")


def record(service, event="incident.opened", key="incident:1:opened", **extra):
    payload = {
        "title": "INC-1 opened: database down",
        "url": "http://testserver/admin/incidents/incident/1/change/",
        "dedup_key": "incident-1",
        "action": "trigger",
        **extra.pop("payload", {}),
    }
    return pages_record(service=service, event=event, key=key, payload=payload, **extra)


def verify_standard_webhook(request, secret):
    """What a receiver does (Standard Webhooks spec): HMAC-SHA256 over id.timestamp.body with
    the base64-decoded secret, compared against each v1 signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
        + request.body
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [
        part.split(",", 1)[1]
        for part in request.headers["webhook-signature"].split()
        if part.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, signature) for signature in given)


@pytest.mark.django_db
def test_pages_go_only_where_the_plan_wants_them_and_are_recorded_once(paged):
    """An event is recorded once per destination whose events, priorities and tiers match; the
    same event recorded again adds nothing."""
    first = record(paged, priority="P0")
    assert sorted(d.destination.name for d in first) == ["hook", "pager", "teams"]
    assert record(paged, priority="P0") == []
    assert Delivery.objects.count() == 3
    # P2 does not reach the P0-only pager; a ticket in tier 1 does not reach the tier-3 chat.
    lower = record(paged, key="incident:2:opened", priority="P2")
    assert sorted(d.destination.name for d in lower) == ["hook", "teams"]
    ticket = record(paged, event="ticket.created", key="ticket:5:created", priority="P2", tier=1)
    assert [d.destination.name for d in ticket] == ["hook"]
    tier3 = record(paged, event="ticket.created", key="ticket:6:created", priority="P2", tier=3)
    assert sorted(d.destination.name for d in tier3) == ["chat", "hook"]


@pytest.mark.django_db(transaction=True)
def test_signed_webhook_verifies_as_standard_webhooks_receivers_check_it(paged, receiver):
    """The generic webhook carries webhook-id, webhook-timestamp and a v1 signature that a
    receiver verifies with the whsec_ secret; a wrong secret does not verify."""
    (delivery,) = [d for d in record(paged) if d.destination.name == "hook"]
    assert delivery_send(delivery_id=delivery.pk)
    (request,) = [r for r in receiver.requests if r.path == "/webhook"]
    assert request.headers["webhook-id"] == delivery.message_id
    assert verify_standard_webhook(request, WHSEC)
    other = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()
    assert not verify_standard_webhook(request, other)
    assert request.json()["type"] == "incident.opened"
    assert request.json()["data"]["dedup_key"] == "incident-1"


@pytest.mark.django_db(transaction=True)
def test_pagerduty_slack_and_teams_get_their_shapes(paged, receiver):
    """PagerDuty gets an Events API v2 trigger with the routing key and dedup_key, then a
    resolve with the same dedup_key; Slack a Block Kit message with a link button; Teams an
    Adaptive Card with an OpenUrl action."""
    record(paged, priority="P0")
    record(
        paged,
        event="ticket.created",
        key="ticket:6:created",
        priority="P2",
        tier=3,
        payload={"title": "Ticket #6"},
    )
    deliveries_send_due()
    record(
        paged,
        event="incident.resolved",
        key="incident:1:resolved",
        priority="P0",
        payload={"action": "resolve"},
    )
    deliveries_send_due()
    pager = [r.json() for r in receiver.requests if r.path == "/v2/enqueue"]
    assert [(p["event_action"], p["dedup_key"]) for p in pager] == [
        ("trigger", "incident-1"),
        ("resolve", "incident-1"),
    ]
    assert pager[0]["routing_key"] == "pd-routing-key-0123"
    assert pager[0]["payload"]["summary"] == "INC-1 opened: database down"
    assert pager[0]["links"][0]["href"].endswith("/admin/incidents/incident/1/change/")
    (slack,) = [r.json() for r in receiver.requests if r.path.startswith("/slack/")]
    button = slack["blocks"][-1]["elements"][0]
    assert button["type"] == "button" and button["url"].startswith("http://testserver/")
    (teams,) = [r.json() for r in receiver.requests if r.path.startswith("/teams/")]
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["actions"][0]["type"] == "Action.OpenUrl"
    assert Delivery.objects.exclude(status=Delivery.Status.SENT).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_5xx_is_retried_and_the_page_is_delivered_once(paged, receiver):
    """The destination answers 500, then 200: the page is retried with the same webhook-id and
    is sent; later sweeps send nothing more."""
    (delivery,) = [d for d in record(paged) if d.destination.name == "hook"]
    Delivery.objects.exclude(pk=delivery.pk).delete()
    receiver.answers = [500]
    assert not delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == 500 and delivery.next_attempt_at > delivery.created_at
    assert deliveries_send_due(now=delivery.next_attempt_at) == 1
    assert deliveries_send_due(now=delivery.give_up_at) == 0
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids == [delivery.message_id, delivery.message_id]


@pytest.mark.django_db(transaction=True)
def test_a_hanging_destination_times_out_and_the_sweep_finishes(paged, receiver, settings):
    """A destination that never answers costs the sweep one timeout: that attempt is recorded
    as unanswered and retried later, the destination's other pages are put off untried, and
    pages to other destinations are still sent."""
    settings.PAGING_TIMEOUT = 0.5
    receiver.answers = ["hang"]
    # The webhook destination's path hangs on its first request; three pages wait for it.
    for number in (1, 2, 3):
        record(paged, key=f"incident:{number}:opened", payload={"dedup_key": f"incident-{number}"})
    hook = Delivery.objects.filter(destination__name="hook").order_by("id")
    deliveries_send_due()
    first, *rest = hook
    assert first.status == Delivery.Status.PENDING and first.attempts == 1
    assert "no answer" in first.last_error
    assert all(d.attempts == 0 and d.status == Delivery.Status.PENDING for d in rest)
    others = Delivery.objects.exclude(destination__name="hook")
    assert others.exists() and all(d.status == Delivery.Status.SENT for d in others)


@pytest.mark.django_db(transaction=True)
def test_a_4xx_fails_at_once_is_visible_and_is_sent_again_from_admin(paged, receiver):
    """A 400 is not retried: the page is failed with the status shown; "send again" in admin
    (delivery_retry) sends it, and retrying a sent page sends nothing."""
    (delivery,) = [d for d in record(paged) if d.destination.name == "hook"]
    Delivery.objects.exclude(pk=delivery.pk).delete()
    receiver.answers = [400]
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.last_status_code == 400
    assert delivery_retry(delivery=delivery)
    assert deliveries_send_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert not delivery_retry(delivery=delivery)
    assert len(receiver.requests) == 2


@pytest.mark.django_db(transaction=True)
def test_retries_give_up_after_the_bounded_time(paged, receiver):
    """A destination still failing when the page's time is up marks it failed, with why."""
    (delivery,) = [d for d in record(paged) if d.destination.name == "hook"]
    Delivery.objects.exclude(pk=delivery.pk).delete()
    receiver.default = 503
    Delivery.objects.filter(pk=delivery.pk).update(give_up_at=delivery.created_at)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error == "gave up after 1 attempts: HTTP 503"


@pytest.mark.django_db(transaction=True)
def test_an_unset_secret_fails_the_page_and_names_only_the_variable(paged, receiver, monkeypatch):
    monkeypatch.delenv("TEST_PAGING_SLACK")
    (delivery,) = record(paged, event="ticket.created", key="ticket:9:created", tier=3)[1:]
    assert delivery.destination.name == "chat"
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert "TEST_PAGING_SLACK is unset" in delivery.last_error
    assert not [r for r in receiver.requests if r.path.startswith("/slack/")]


@pytest.mark.django_db(transaction=True)
def test_destinations_on_private_addresses_are_refused(paged, receiver, settings):
    """Without the allow-list, loopback is refused before any connection (SSRF), the failure
    says why without the URL, and the receiver hears nothing."""
    settings.PAGING_ALLOWED_HOSTS = []
    (delivery,) = record(paged, event="ticket.created", key="ticket:9:created", tier=3)[1:]
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.last_error.startswith("refused:")
    assert "secretpath" not in delivery.last_error
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://127.0.0.1:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "ftp://example.com/hook",
    ],
)
def test_ssrf_guard_refuses_internal_and_metadata_addresses(url, settings):
    settings.PAGING_ALLOWED_HOSTS = []
    with pytest.raises(transport.Refused):
        transport.vet(url)


def test_standard_webhooks_signature_matches_the_specs_example():
    """The example of the Standard Webhooks spec's reference libraries."""
    signature = kinds.webhook_signature(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.django_db
def test_paging_admin_is_for_superusers_and_shows_no_secret(client, paged, monkeypatch):
    record(paged)
    staff = factories.StaffFactory(tier=3)
    client.force_login(staff)
    assert client.get(reverse("admin:paging_delivery_changelist")).status_code == 403
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    for name in ("admin:paging_delivery_changelist", "admin:paging_destination_changelist"):
        page = client.get(reverse(name)).content.decode()
        assert "pd-routing-key-0123" not in page and "secretpath" not in page
    destination = Destination.objects.get(name="chat")
    page = client.get(reverse("admin:paging_destination_change", args=[destination.pk]))
    assert "TEST_PAGING_SLACK" in page.content.decode()
    assert "secretpath" not in page.content.decode()
    body = json.dumps(list(Delivery.objects.values("payload", "last_error")), default=str)
    assert "pd-routing-key-0123" not in body


def test_beat_runs_the_page_sweep_every_minute(settings):
    """Pages whose task was lost, and retries, go out within a minute of falling due."""
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "paging.tasks.send_pending_pages"
    ]
    assert entry["schedule"] == 60.0
