"""``/api/v2/*.json`` speak Statuspage's public v2 API: every documented key of its examples
(page, status, components, incidents with their updates, scheduled maintenances), its status
words, CORS open and 30 s caching; only published incidents, never internal notes."""

from datetime import date, time, timedelta

import pytest
from django.core.cache import cache

from incidents import services
from tests import factories
from tests.incidents.factories import IncidentPolicyFactory
from tests.maintenance.conftest import make_window

pytestmark = pytest.mark.django_db

# The keys of Statuspage's documented v2 examples (its API page, e.g. summary.json and
# incidents.json of a public page), object by object.
PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
STATUS_KEYS = {"indicator", "description"}
COMPONENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "impact",
    "shortlink",
    "started_at",
    "page_id",
    "incident_updates",
    "components",
}
UPDATE_KEYS = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
    "custom_tweet",
    "tweet_id",
}
MAINTENANCE_KEYS = INCIDENT_KEYS | {"scheduled_for", "scheduled_until"}
TOP_KEYS = {
    "summary": {"page", "components", "incidents", "scheduled_maintenances", "status"},
    "status": {"page", "status"},
    "components": {"page", "components"},
    "incidents": {"page", "incidents"},
    "incidents/unresolved": {"page", "incidents"},
    "scheduled-maintenances": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/upcoming": {"page", "scheduled_maintenances"},
    "scheduled-maintenances/active": {"page", "scheduled_maintenances"},
}
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}


@pytest.fixture
def page(clock):
    """API down (a published partial outage with two public updates and an internal note),
    ERP under maintenance now (and every Sunday), Mail fine but with a draft incident."""
    staff = factories.StaffFactory(tier=1)
    publisher = factories.StaffFactory(tier=2)
    api = factories.ServiceFactory(slug="api", name="API")
    erp = factories.ServiceFactory(slug="erp", name="ERP")
    mail = factories.ServiceFactory(slug="mail", name="Mail")
    for service in (api, mail):
        IncidentPolicyFactory(service=service)
    severity = factories.PriorityFactory(service=api, code="P1")
    incident = services.incident_open(
        service=api, severity=severity, title="Errors on login", by=staff, impact="partial_outage"
    )
    services.incident_post_update(incident=incident, body="Looking", public=True, by=staff)
    services.incident_post_update(incident=incident, body="DBA note", public=False, by=staff)
    clock.shift(timedelta(minutes=5))
    services.incident_post_update(
        incident=incident, body="Fix deployed", public=True, by=staff, status="monitoring"
    )
    services.incident_publish(incident=incident, by=publisher)
    make_window(erp)  # Sundays 02:00–04:00 UTC: last Sunday done, next one upcoming
    make_window(erp, name="Disk swap", date=date(2027, 1, 5), start=time(23, 30), duration="2h")
    services.incident_open(
        service=mail,
        severity=factories.PriorityFactory(service=mail, code="P1"),
        title="Draft: mail queue stuck",
        by=staff,
    )
    return {"incident": incident}


def get(client, kind):
    response = client.get(f"/api/v2/{kind}.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=30" in response["Cache-Control"]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def check_incident(incident, keys=INCIDENT_KEYS):
    assert set(incident) >= keys, keys - set(incident)
    for update in incident["incident_updates"]:
        assert set(update) >= UPDATE_KEYS, UPDATE_KEYS - set(update)
    for component in incident["components"]:
        assert set(component) >= COMPONENT_KEYS


@pytest.mark.parametrize("kind", list(TOP_KEYS))
def test_every_endpoint_has_statuspages_documented_shape(client, page, kind):
    doc = get(client, kind)
    assert set(doc) == TOP_KEYS[kind]
    assert set(doc["page"]) == PAGE_KEYS
    if "status" in doc:
        assert set(doc["status"]) == STATUS_KEYS
        assert doc["status"]["indicator"] in {"none", "minor", "major", "critical", "maintenance"}
    for component in doc.get("components", ()):
        assert set(component) >= COMPONENT_KEYS
        assert component["status"] in COMPONENT_STATUSES
    for incident in doc.get("incidents", ()):
        check_incident(incident)
        assert incident["status"] in INCIDENT_STATUSES
        assert incident["impact"] in {"none", "minor", "major", "critical"}
    for maintenance in doc.get("scheduled_maintenances", ()):
        check_incident(maintenance, MAINTENANCE_KEYS)
        assert maintenance["status"] in MAINTENANCE_STATUSES
        assert maintenance["impact"] == "maintenance"


def test_the_words_say_what_is_going_on(client, page):
    """A published partial outage: the component is partial_outage, the incident major impact
    and monitoring (its latest public update), the page's indicator major; maintenance in
    progress shows under_maintenance; the draft and the internal note are nowhere."""
    summary = get(client, "summary")
    components = {c["id"]: c["status"] for c in summary["components"]}
    assert components == {
        "api": "partial_outage",
        "erp": "under_maintenance",
        "mail": "operational",
    }
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    [incident] = summary["incidents"]
    assert incident["name"] == "Errors on login"
    assert (incident["status"], incident["impact"]) == ("monitoring", "major")
    assert [u["body"] for u in incident["incident_updates"]] == ["Fix deployed", "Looking"]
    assert incident["monitoring_at"] is not None
    assert incident["shortlink"].endswith(f"/status/incidents/{page['incident'].pk}/")
    every = "".join(client.get(f"/api/v2/{kind}.json").text for kind in TOP_KEYS)
    assert "Draft: mail queue stuck" not in every and "DBA note" not in every

    active = get(client, "scheduled-maintenances/active")["scheduled_maintenances"]
    assert [(m["name"], m["status"]) for m in active] == [("ERP: Disk swap", "in_progress")]
    upcoming = get(client, "scheduled-maintenances/upcoming")["scheduled_maintenances"]
    assert upcoming and all(m["status"] == "scheduled" for m in upcoming)
    everything = get(client, "scheduled-maintenances")["scheduled_maintenances"]
    assert {"completed", "in_progress", "scheduled"} <= {m["status"] for m in everything}


def test_resolved_incidents_leave_unresolved_and_the_page_turns_green(client, page, clock):
    staff = factories.StaffFactory(tier=1)
    services.incident_resolve(incident=page["incident"], by=staff)
    cache.clear()
    assert get(client, "incidents/unresolved")["incidents"] == []
    [incident] = get(client, "incidents")["incidents"]
    assert incident["status"] == "resolved" and incident["resolved_at"]
    assert get(client, "components")["components"][0]["status"] == "operational"


def test_answers_are_cached_30_seconds(client, page, clock):
    """A second request within 30 s is served from the cache (no query); after it, fresh."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get(client, "summary")
    with CaptureQueriesContext(connection) as cached:
        get(client, "summary")
    assert len(cached) == 0
    clock.shift(timedelta(seconds=31))
    with CaptureQueriesContext(connection) as fresh:
        get(client, "summary")
    assert len(fresh) > 0
