"""POST /hooks/alerts/<service>/<name>/: authenticated, deduplicated, incidents opened as
drafts and resolved when their alerts are."""

import json
import time

import pytest

from alerts.auth import generic_signature
from alerts.models import Alert, AlertGroup
from incidents.models import Incident
from paging.models import Delivery
from tests.alerts.conftest import SECRETS, alertmanager, hook_url, post, post_signed

PROM = SECRETS["TEST_ALERTS_PROM"]


def nothing_stored():
    return not (Alert.objects.exists() or AlertGroup.objects.exists() or Incident.objects.exists())


@pytest.mark.django_db
def test_alertmanager_firing_three_times_opens_one_draft_incident(client, watched):
    """The same alert (one fingerprint) delivered three times is one alert counted three times
    in one group, with one incident: a draft (not public) of the mapped severity."""
    for _ in range(3):
        response = post(client, "prom", alertmanager(), token=PROM)
        assert response.status_code == 200
    (incident,) = Incident.objects.all()
    assert incident.published_at is None
    assert incident.severity.code == "P0"  # severity_map: critical → P0
    assert incident.title == "g1 is failing"
    (alert,) = Alert.objects.all()
    assert alert.count == 3 and alert.status == Alert.Status.FIRING
    (group,) = AlertGroup.objects.all()
    assert group.incident == incident and group.count == 3 and group.all_resolved_at is None
    # The page went into the outbox once, for the one incident.
    (page,) = Delivery.objects.all()
    assert page.event == "incident.opened"
    assert page.payload["dedup_key"] == f"incident-{incident.pk}"


@pytest.mark.django_db
def test_severity_falls_back_to_the_hooks_severity(client, watched):
    post(client, "prom", alertmanager(severity="info"), token=PROM)
    assert Incident.objects.get().severity.code == "P1"


@pytest.mark.django_db
def test_resolved_alerts_resolve_and_auto_resolve_resolves_the_incident(client, watched):
    """Two alerts fire; one resolving leaves the incident open; the second resolving marks
    the group all resolved and (auto_resolve) resolves the incident, paging the resolve with
    the trigger's dedup_key."""
    post(client, "prom", alertmanager(fingerprints=("a", "b")), token=PROM)
    post(client, "prom", alertmanager("resolved", fingerprints=("a",)), token=PROM)
    incident = Incident.objects.get()
    assert incident.resolved_at is None
    assert Alert.objects.get(identity="a").status == Alert.Status.RESOLVED
    assert AlertGroup.objects.get().all_resolved_at is None
    post(client, "prom", alertmanager("resolved", fingerprints=("b",)), token=PROM)
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert AlertGroup.objects.get().all_resolved_at is not None
    pages = {page.event: page.payload for page in Delivery.objects.all()}
    assert pages["incident.resolved"]["action"] == "resolve"
    assert pages["incident.resolved"]["dedup_key"] == pages["incident.opened"]["dedup_key"]


@pytest.mark.django_db
def test_without_auto_resolve_staff_see_every_alert_resolved(client, watched):
    """Without auto_resolve the incident stays open for staff, and its group says every
    alert resolved; the same alert firing again reopens nothing new while it is open."""
    post(client, "prom-manual", alertmanager(), token=PROM)
    post(client, "prom-manual", alertmanager("resolved"), token=PROM)
    incident = Incident.objects.get()
    assert incident.resolved_at is None
    group = AlertGroup.objects.get()
    assert group.all_resolved_at is not None
    post(client, "prom-manual", alertmanager(), token=PROM)
    group.refresh_from_db()
    assert Incident.objects.count() == 1 and group.all_resolved_at is None


@pytest.mark.django_db
def test_firing_after_the_incident_resolved_opens_a_new_one(client, watched):
    post(client, "prom", alertmanager(), token=PROM)
    post(client, "prom", alertmanager("resolved"), token=PROM)
    post(client, "prom", alertmanager(), token=PROM)
    first, second = Incident.objects.order_by("id")
    assert first.resolved_at is not None and second.resolved_at is None
    assert AlertGroup.objects.get().incident == second


@pytest.mark.django_db
def test_alertmanager_basic_auth_and_truncated_alerts(client, watched):
    payload = alertmanager()
    payload["truncatedAlerts"] = 7
    assert post(client, "prom", payload, basic=f"alertmanager:{PROM}").status_code == 200
    assert AlertGroup.objects.get().truncated_alerts == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"token": "wrong-token"},
        {"token": PROM + "x"},
        {"basic": "alertmanager:wrong"},
        {"basic": PROM},  # no colon: not user:password
        {"headers": {"Authorization": "Token " + PROM}},
    ],
)
def test_unauthenticated_alerts_are_refused_and_nothing_is_stored(client, watched, auth):
    response = post(client, "prom", alertmanager(), **auth)
    assert response.status_code == 401
    assert nothing_stored()


@pytest.mark.django_db
def test_a_hook_whose_secret_is_unset_refuses_everything(client, watched, monkeypatch):
    monkeypatch.delenv("TEST_ALERTS_PROM")
    assert post(client, "prom", alertmanager(), token="").status_code == 401
    assert post(client, "prom", alertmanager(), token=PROM).status_code == 401
    assert nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"alerts": []}', b'{"alerts": [{"status": "x"}]}'],
)
def test_malformed_payloads_are_400_and_nothing_is_stored(client, watched, raw):
    assert post(client, "prom", None, raw=raw, token=PROM).status_code == 400
    assert nothing_stored()


@pytest.mark.django_db
def test_unknown_hooks_and_other_methods(client, watched):
    assert client.post(hook_url("nope"), b"{}", content_type="application/json").status_code == 404
    assert client.get(hook_url("prom")).status_code == 405


@pytest.mark.django_db
def test_an_oversized_payload_is_refused(client, watched, settings):
    settings.ALERTS_MAX_BYTES = 100
    assert post(client, "prom", alertmanager(), token=PROM).status_code == 413
    assert nothing_stored()


@pytest.mark.django_db
def test_grafana_alerting_webhook(client, watched):
    payload = {
        "receiver": "portal",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "High CPU", "grafana_folder": "infra"},
                "annotations": {"summary": "CPU above 90 %"},
                "startsAt": "2026-12-02T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://grafana.example.com/alerting/grafana/abc/view",
                "fingerprint": "c6eadffa33fcdf37",
                "silenceURL": "http://grafana.example.com/alerting/silence/new",
                "values": {"B": 91.2},
            }
        ],
        "groupLabels": {"alertname": "High CPU"},
        "commonLabels": {"alertname": "High CPU"},
        "commonAnnotations": {"summary": "CPU above 90 %"},
        "externalURL": "http://grafana.example.com/",
        "version": "1",
        "groupKey": '{}:{alertname="High CPU"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] High CPU",
        "state": "alerting",
        "message": "CPU above 90 %",
    }
    token = SECRETS["TEST_ALERTS_GRAFANA"]
    assert post(client, "grafana", payload, token=PROM).status_code == 401
    assert post(client, "grafana", payload, token=token).status_code == 200
    incident = Incident.objects.get()
    assert incident.severity.code == "P2" and incident.title == "CPU above 90 %"


def kuma(status, *, monitor_id=7):
    """An Uptime Kuma webhook notification, with the monitor's credentials it sends along."""
    return {
        "heartbeat": {
            "monitorID": monitor_id,
            "status": status,
            "time": "2026-12-02 10:00:00.000",
            "msg": "connect ECONNREFUSED" if status == 0 else "200 - OK",
            "important": True,
            "duration": 60,
        },
        "monitor": {
            "id": monitor_id,
            "name": "Shop front",
            "url": "https://shop.example.com",
            "type": "http",
            "basic_auth_user": "monitor",
            "basic_auth_pass": "hunter2-kuma-pass",
            "headers": '{"Authorization": "Bearer leaked-header-token"}',
            "pushToken": "push-token-secret",
            "accepted_statuscodes": ["200-299"],
        },
        "msg": "[Shop front] [🔴 Down] connect ECONNREFUSED",
    }


@pytest.mark.django_db
def test_uptime_kuma_down_then_up_and_its_secrets_are_not_stored(client, watched):
    """Kuma's monitor down (0) opens an incident; up (1) resolves the alert and, with
    auto_resolve, the incident. The stored payload has no password, token or headers."""
    token = SECRETS["TEST_ALERTS_KUMA"]
    assert post(client, "kuma", kuma(0), token=token).status_code == 200
    incident = Incident.objects.get()
    assert incident.title == "Shop front is down" and incident.severity.code == "P0"
    assert post(client, "kuma", kuma(1), token=token).status_code == 200
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    alert = Alert.objects.get()
    assert alert.status == Alert.Status.RESOLVED
    stored = repr(alert.payload)
    for secret in ("hunter2-kuma-pass", "leaked-header-token", "push-token-secret", "basic_auth"):
        assert secret not in stored
    assert alert.payload["monitor"]["name"] == "Shop front"


@pytest.mark.django_db
def test_uptime_kuma_test_message_is_ignored(client, watched):
    payload = {"heartbeat": None, "monitor": None, "msg": "Uptime Kuma Testing"}
    response = post(client, "kuma", payload, token=SECRETS["TEST_ALERTS_KUMA"])
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert nothing_stored()


def generic(status="firing", **extra):
    return {
        "id": "disk-full-db1",
        "group": "db1",
        "status": status,
        "title": "Disk full on db1",
        **extra,
    }


@pytest.mark.django_db
def test_generic_hook_with_a_good_signature(client, watched):
    assert post_signed(client, generic(severity="x")).status_code == 200
    assert post_signed(client, generic("resolved")).status_code == 200
    incident = Incident.objects.get()
    assert incident.severity.code == "P2" and incident.resolved_at is None
    assert Alert.objects.get().status == Alert.Status.RESOLVED
    assert AlertGroup.objects.get().all_resolved_at is not None


@pytest.mark.django_db
def test_generic_hook_refuses_a_bad_signature_and_a_tampered_body(client, watched):
    assert post_signed(client, generic(), secret="another-secret").status_code == 401
    stamp = str(int(time.time()))
    good = generic_signature(SECRETS["TEST_ALERTS_GENERIC"], stamp, json.dumps(generic()).encode())
    tampered = json.dumps(generic(title="Something else")).encode()
    headers = {"X-Timestamp": stamp, "X-Signature": good}
    assert post(client, "generic", None, raw=tampered, headers=headers).status_code == 401
    # Nor may the signed timestamp be swapped for a fresh one.
    headers = {"X-Timestamp": str(int(stamp) + 1), "X-Signature": good}
    body = json.dumps(generic()).encode()
    assert post(client, "generic", None, raw=body, headers=headers).status_code == 401
    assert nothing_stored()


@pytest.mark.django_db
def test_generic_hook_refuses_a_replay_older_than_the_tolerance(client, watched):
    """A request signed six minutes ago (captured, replayed) is refused; one signed a minute
    ago is accepted."""
    old = int(time.time()) - 360
    assert post_signed(client, generic(), timestamp=old).status_code == 401
    assert post_signed(client, generic(), timestamp=int(time.time()) + 360).status_code == 401
    assert nothing_stored()
    assert post_signed(client, generic(), timestamp=int(time.time()) - 60).status_code == 200


@pytest.mark.django_db
def test_generic_hook_malformed_but_signed_is_400(client, watched):
    assert post_signed(client, None, raw=b"{oops").status_code == 400
    assert post_signed(client, {"title": "no id"}).status_code == 400
    assert nothing_stored()


@pytest.mark.django_db
def test_a_big_delivery_is_written_whole_with_repeats_inside_it(client, watched):
    """One delivery holding a group's alerts — new ones, a known one, one fingerprint twice —
    stores one row per fingerprint with every repeat counted."""
    token = SECRETS["TEST_ALERTS_PROM"]
    post(client, "prom", alertmanager(fingerprints=("known",)), token=token)
    fingerprints = ("known", "a", "a", *(f"n{i}" for i in range(50)))
    response = post(client, "prom", alertmanager(fingerprints=fingerprints), token=token)
    assert response.status_code == 200
    alerts = Alert.objects.filter(hook__name="prom")
    assert alerts.count() == 52
    assert alerts.get(identity="known").count == 2 and alerts.get(identity="a").count == 2
    assert AlertGroup.objects.get(hook__name="prom").count == 1 + len(fingerprints)
