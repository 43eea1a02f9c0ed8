"""The plan's ``alerts:`` and ``notify:`` sections: validated with file, key path and line,
loaded idempotently, exported back, and secrets only ever named, never stored."""

import io
import logging

import pytest
from django.core.management import call_command

from alerts.models import AlertHook
from paging.models import Destination
from sla.models import Service
from sla.plan import PlanInvalid, parse_plan
from sla.plan.export import service_export_yaml
from tests.alerts.conftest import PLAN, SECRETS
from tests.paging.conftest import load_plan_text

HEAD = """\
service: {slug: watched, name: Watched service}
priorities:
  - {code: P0, name: Critical, response: 15m}
tiers:
  - {level: 1, name: Helpdesk}
"""


def errors(text):
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text, "bad.yaml")
    return [str(error) for error in caught.value.errors]


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            "alerts:\n  - {name: a, source: nagios, secret_env: X, severity: P0}\n",
            "bad.yaml: alerts[0].source (line 7): unknown source 'nagios'",
        ),
        (
            "alerts:\n  - {name: a, source: generic, secret_env: X, severity: P9}\n",
            "bad.yaml: alerts[0].severity (line 7): 'P9' is not one of the plan's priority codes",
        ),
        (
            "alerts:\n  - name: a\n    source: generic\n    secret_env: X\n    severity: P0\n"
            "    severity_map: {critical: P7}\n",
            "bad.yaml: alerts[0].severity_map.critical (line 11): 'P7' is not one of",
        ),
        (
            "alerts:\n  - {name: a, source: generic, secret_env: abc123-secret, severity: P0}\n",
            "bad.yaml: alerts[0].secret_env (line 7): 'abc123-secret' is not an environment",
        ),
        (
            "alerts:\n  - {name: a, source: generic, secret_env: X, severity: P0}\n"
            "  - {name: a, source: generic, secret_env: Y, severity: P0}\n",
            "bad.yaml: alerts[1].name (line 8): duplicate alert source 'a' (also alerts[0])",
        ),
        (
            "alerts:\n  - {name: a, source: generic, secret_env: X, severity: P0, token: t}\n",
            "bad.yaml: alerts[0].token (line 7): unknown key 'token'",
        ),
        (
            "notify:\n  - {name: n, kind: webhook, secret_env: X, events: [incident.opened]}\n",
            "bad.yaml: notify[0].url (line 7): a webhook needs `url:`",
        ),
        (
            "notify:\n  - {name: n, kind: slack, secret_env: X, events: [incident.opened],"
            " url: 'https://hooks.slack.com/services/T/B/x'}\n",
            "bad.yaml: notify[0].url (line 7): a slack destination takes no `url:`",
        ),
        (
            "notify:\n  - {name: n, kind: pagerduty, secret_env: X, events: [ticket.exploded]}\n",
            "bad.yaml: notify[0].events[0] (line 7): unknown event 'ticket.exploded'",
        ),
        (
            "notify:\n  - {name: n, kind: pagerduty, secret_env: X, events: [sla.breached],"
            " tiers: [3]}\n",
            "bad.yaml: notify[0].tiers[0] (line 7): tier 3 is not one of the plan's tier levels",
        ),
    ],
)
def test_bad_sections_are_refused_with_key_path_and_line(section, expected):
    found = errors(HEAD + section)
    assert any(message.startswith(expected) for message in found), found


@pytest.mark.django_db
def test_loading_twice_writes_nothing_and_export_round_trips(monkeypatch, tmp_path):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    first = load_plan_text(PLAN)
    assert first.created > 0
    again = load_plan_text(PLAN)
    assert (again.created, again.updated, again.retired) == (0, 0, 0)
    service = Service.objects.get(slug="watched")
    exported = service_export_yaml(service=service)
    assert parse_plan(exported, "export.yaml") == parse_plan(PLAN, "plan.yaml")
    path = tmp_path / "watched.yaml"
    path.write_text(exported)
    out = io.StringIO()
    call_command("load_plan", str(path), stdout=out)
    assert out.getvalue().strip() == "watched: created 0, updated 0, retired 0"


@pytest.mark.django_db
def test_a_removed_hook_is_retired_and_its_url_answers_404(client, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    load_plan_text(PLAN)
    shorter = PLAN[: PLAN.index("  - name: prom-manual")] + PLAN[PLAN.index("  - name: grafana") :]
    report = load_plan_text(shorter)
    assert report.retired == 1
    assert AlertHook.objects.get(name="prom-manual").retired_at is not None
    response = client.post(
        "/hooks/alerts/watched/prom-manual/",
        b"{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {SECRETS['TEST_ALERTS_PROM']}"},
    )
    assert response.status_code == 404
    load_plan_text(PLAN)
    assert AlertHook.objects.get(name="prom-manual").retired_at is None


@pytest.mark.django_db
def test_secrets_are_named_never_stored_and_unset_ones_are_a_warning(monkeypatch, caplog):
    """The plan names variables; their values are in no row. A variable that is not set is a
    warning naming it, and the plan still loads."""
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.WARNING, logger="sla.plan"):
        load_plan_text(PLAN)
    assert "TEST_ALERTS_PROM is not set" in caplog.text
    assert "TEST_ALERTS_PD is not set" in caplog.text
    assert AlertHook.objects.count() == 5 and Destination.objects.count() == 1
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    load_plan_text(PLAN)
    rows = repr(list(AlertHook.objects.values())) + repr(list(Destination.objects.values()))
    for value in SECRETS.values():
        assert value not in rows
