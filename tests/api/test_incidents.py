"""Incidents through the API, for staff: open a draft, post updates, publish — the admin's
scope (services worked) and permissions (Tier 1 drafts, Tier 2–3 publish), through
incidents.services."""

import pytest

from api.models import ApiWrite
from incidents import services
from incidents.models import Incident, IncidentUpdate
from tests import factories
from tests.api.conftest import ApiClient, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(service, priority, tier1_staff):
    return services.incident_open(
        service=service, severity=priority, title="Mail down", by=tier1_staff
    )


def test_tier1_opens_a_draft_and_updates_it(tier1_staff, service, priority):
    client = ApiClient(make_token(tier1_staff)[1])
    response = client.post(
        "/api/v1/incidents/",
        {
            "service": service.slug,
            "severity": priority.code,
            "title": "Web slow",
            "impact": "degraded_performance",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["published_at"], body["impact"], body["owner"]) == (
        None,
        "degraded_performance",
        tier1_staff.email,
    )
    incident = Incident.objects.get(pk=body["id"])
    update = client.post(
        f"/api/v1/incidents/{incident.pk}/updates/",
        {"body": "Looking into it", "public": True, "status": "investigating"},
    )
    assert update.status_code == 201
    assert IncidentUpdate.objects.get().emails_pending is False  # held: a draft
    detail = client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert [u["body"] for u in detail["updates"]] == ["Looking into it"]
    assert [w.target for w in ApiWrite.objects.order_by("id")] == [
        f"incident:{incident.pk}",
        f"incident_update:{update.json()['id']}",
    ]


def test_tier1_may_not_publish_tier2_may(incident, tier1_staff, tier2_staff):
    refused = ApiClient(make_token(tier1_staff)[1]).post(
        f"/api/v1/incidents/{incident.pk}/publish/"
    )
    assert refused.status_code == 403
    incident.refresh_from_db()
    assert incident.published_at is None
    published = ApiClient(make_token(tier2_staff)[1]).post(
        f"/api/v1/incidents/{incident.pk}/publish/"
    )
    assert published.status_code == 200 and published.json()["published_at"]
    again = ApiClient(make_token(tier2_staff)[1]).post(f"/api/v1/incidents/{incident.pk}/publish/")
    assert again.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("post", "updates/", {"body": "not mine", "public": True}),
        ("post", "publish/", None),
    ],
)
def test_an_incident_of_a_service_the_member_does_not_work_is_404(incident, method, path, body):
    elsewhere = factories.StaffFactory(tier=3, services=[factories.ServiceFactory()])
    client = ApiClient(make_token(elsewhere)[1])
    url = f"/api/v1/incidents/{incident.pk}/{path}"
    response = client.get(url) if method == "get" else client.post(url, body)
    missing = (
        client.get("/api/v1/incidents/999999/")
        if method == "get"
        else client.post(f"/api/v1/incidents/999999/{path}", body)
    )
    assert response.status_code == missing.status_code == 404
    assert b"Mail down" not in response.content
    incident.refresh_from_db()
    assert incident.published_at is None and not IncidentUpdate.objects.exists()
    assert client.get("/api/v1/incidents/").json()["results"] == []


def test_opening_for_a_service_one_does_not_work_is_refused(service, priority):
    member = factories.StaffFactory(tier=2, services=[factories.ServiceFactory()])
    response = ApiClient(make_token(member)[1]).post(
        "/api/v1/incidents/", {"service": service.slug, "severity": priority.code, "title": "x"}
    )
    assert response.status_code == 400 and "service" in response.json()["errors"]
    assert not Incident.objects.exists()


def test_customers_have_no_incident_endpoints(customer, incident):
    client = ApiClient(make_token(customer)[1])
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get(f"/api/v1/incidents/{incident.pk}/").status_code == 403
    assert client.post(f"/api/v1/incidents/{incident.pk}/publish/").status_code == 403
    incident.refresh_from_db()
    assert incident.published_at is None


@pytest.mark.parametrize("count", [1, 15])
def test_incident_list_queries_do_not_grow(
    service, priority, tier1_staff, count, django_assert_num_queries
):
    for n in range(count):
        services.incident_open(
            service=service, severity=priority, title=f"Incident {n}", by=tier1_staff
        )
    client = ApiClient(make_token(tier1_staff, "read")[1])
    client.get("/api/v1/incidents/")
    # token+user, tier groups, staff services, permissions (user's, groups'), the page
    with django_assert_num_queries(6):
        assert client.get("/api/v1/incidents/").status_code == 200
