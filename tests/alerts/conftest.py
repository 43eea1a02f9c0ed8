import base64
import json
import time

import pytest

from alerts.auth import generic_signature
from sla.models import Service
from tests.paging.conftest import load_plan_text

PLAN = """
service: {slug: watched, name: Watched service}
priorities:
  - {code: P0, name: Critical, response: 15m, resolution: 4h}
  - {code: P1, name: High, response: 1h}
  - {code: P2, name: Normal, response: 4h}
tiers:
  - {level: 1, name: Helpdesk}
alerts:
  - name: prom
    source: alertmanager
    secret_env: TEST_ALERTS_PROM
    severity: P1
    severity_map: {critical: P0, warning: P2}
    auto_resolve: true
  - name: prom-manual
    source: alertmanager
    secret_env: TEST_ALERTS_PROM
    severity: P1
  - name: grafana
    source: grafana
    secret_env: TEST_ALERTS_GRAFANA
    severity: P2
  - name: kuma
    source: uptime-kuma
    secret_env: TEST_ALERTS_KUMA
    severity: P0
    auto_resolve: true
  - name: generic
    source: generic
    secret_env: TEST_ALERTS_GENERIC
    severity: P2
notify:
  - name: pager
    kind: pagerduty
    secret_env: TEST_ALERTS_PD
    events: [incident.opened, incident.resolved]
"""

SECRETS = {
    "TEST_ALERTS_PROM": "prom-token-0123456789",
    "TEST_ALERTS_GRAFANA": "grafana-token-0123456789",
    "TEST_ALERTS_KUMA": "kuma-token-0123456789",
    "TEST_ALERTS_GENERIC": "generic-shared-secret-0123456789",
    "TEST_ALERTS_PD": "pd-routing-key-0123",
}


@pytest.fixture
def watched(db, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    load_plan_text(PLAN)
    return Service.objects.get(slug="watched")


def hook_url(name, slug="watched"):
    return f"/hooks/alerts/{slug}/{name}/"


def post(client, name, payload, *, token=None, basic=None, headers=None, raw=None):
    """POST ``payload`` (JSON) to hook ``name``, with a bearer token, basic auth or headers."""
    body = raw if raw is not None else json.dumps(payload).encode()
    extra = dict(headers or {})
    if token is not None:
        extra["Authorization"] = f"Bearer {token}"
    if basic is not None:
        extra["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    return client.post(hook_url(name), body, content_type="application/json", headers=extra)


def post_signed(client, payload, *, secret=None, timestamp=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = generic_signature(secret or SECRETS["TEST_ALERTS_GENERIC"], stamp, body)
    return post(
        client,
        "generic",
        None,
        raw=body,
        headers={"X-Timestamp": stamp, "X-Signature": signature},
    )


def alertmanager(status="firing", *, fingerprints=("fp-1",), severity="critical", group="g1"):
    """An Alertmanager webhook v4 payload, as its documentation shows it."""
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "portal",
        "groupLabels": {"alertname": group},
        "commonLabels": {"alertname": group, "severity": severity},
        "commonAnnotations": {"summary": f"{group} is failing"},
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": group, "severity": severity, "instance": fingerprint},
                "annotations": {"summary": f"{group} is failing"},
                "startsAt": "2026-12-02T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-02T11:00:00Z",
                "generatorURL": "http://prometheus.example.com/graph",
                "fingerprint": fingerprint,
            }
            for fingerprint in fingerprints
        ],
    }


# The loopback receiver of the paging tests (PagerDuty's URL pointed at it).
from tests.paging.conftest import receiver  # noqa: E402,F401
