"""Maintenance through the API: windows and occurrences as the public calendar shows them;
cancel and move by staff allowed to change windows, of the services they work."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission

from api.models import ApiWrite
from maintenance.models import OccurrenceException
from tests import factories
from tests.api.conftest import ApiClient, make_token
from tests.maintenance.conftest import NOW, SUNDAY, make_policy, make_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def weekly(clock, service):
    make_policy(service)
    return make_window(service)


@pytest.fixture
def maintainer(service):
    """Staff of the service allowed to change windows (as in the admin)."""
    user = factories.StaffFactory(tier=2, services=[service])
    user.user_permissions.add(Permission.objects.get(codename="change_maintenancewindow"))
    return user


def test_occurrences_as_the_calendar_shows_them(customer, weekly):
    client = ApiClient(make_token(customer, "read")[1])
    body = client.get(
        "/api/v1/maintenance/occurrences/",
        {"start": "2027-01-06T00:00:00Z", "end": "2027-01-20T00:00:00Z"},
    ).json()
    starts = [o["starts_at"] for o in body["results"]]
    assert starts == ["2027-01-10T02:00:00Z", "2027-01-17T02:00:00Z"]
    first = body["results"][0]
    assert (first["window"], first["service"], first["cancelled"]) == (
        weekly.pk,
        weekly.service.slug,
        False,
    )


@pytest.mark.parametrize(
    "query",
    [
        {"start": "yesterday"},
        {"start": "2027-01-06T00:00:00"},  # no zone
        {"start": "2027-01-06T00:00:00Z", "end": "2027-01-05T00:00:00Z"},
        {"start": "2027-01-06T00:00:00Z", "end": "2028-06-01T00:00:00Z"},  # over a year
    ],
)
def test_bad_ranges_are_refused(customer, weekly, query):
    client = ApiClient(make_token(customer, "read")[1])
    response = client.get("/api/v1/maintenance/occurrences/", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_windows_list(customer, weekly):
    client = ApiClient(make_token(customer, "read")[1])
    body = client.get("/api/v1/maintenance/windows/", {"service": weekly.service.slug}).json()
    assert [w["id"] for w in body["results"]] == [weekly.pk]
    assert client.get("/api/v1/maintenance/windows/", {"service": "nope"}).status_code == 404


def test_staff_cancel_an_occurrence(maintainer, weekly):
    client = ApiClient(make_token(maintainer)[1])
    response = client.post(
        f"/api/v1/maintenance/windows/{weekly.pk}/cancel/",
        {"starts_at": SUNDAY.isoformat(), "reason": "Nothing to patch"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["cancelled"] is True
    exception = OccurrenceException.objects.get()
    assert (exception.cancelled, exception.by, exception.reason) == (
        True,
        maintainer,
        "Nothing to patch",
    )
    assert ApiWrite.objects.get().target == f"window:{weekly.pk}"


def test_staff_move_an_occurrence(maintainer, weekly):
    client = ApiClient(make_token(maintainer)[1])
    new_start = SUNDAY + timedelta(days=1)
    response = client.post(
        f"/api/v1/maintenance/windows/{weekly.pk}/move/",
        {"starts_at": SUNDAY.isoformat(), "new_start": new_start.isoformat()},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["moved"] is True
    assert body["starts_at"] == "2027-01-11T02:00:00Z" and body["ends_at"] == "2027-01-11T04:00:00Z"
    assert body["original_start"] == "2027-01-10T02:00:00Z"


def test_no_such_occurrence_is_a_400(maintainer, weekly):
    client = ApiClient(make_token(maintainer)[1])
    response = client.post(
        f"/api/v1/maintenance/windows/{weekly.pk}/cancel/",
        {"starts_at": (SUNDAY + timedelta(hours=1)).isoformat()},
    )
    assert response.status_code == 400
    assert not OccurrenceException.objects.exists()


@pytest.mark.parametrize("action", ["cancel", "move"])
def test_a_window_of_a_service_the_member_does_not_work_is_404(weekly, action):
    elsewhere = factories.StaffFactory(tier=3, services=[factories.ServiceFactory()])
    elsewhere.user_permissions.add(Permission.objects.get(codename="change_maintenancewindow"))
    client = ApiClient(make_token(elsewhere)[1])
    body = {"starts_at": SUNDAY.isoformat(), "new_start": (SUNDAY + timedelta(days=1)).isoformat()}
    response = client.post(f"/api/v1/maintenance/windows/{weekly.pk}/{action}/", body)
    missing = client.post(f"/api/v1/maintenance/windows/999999/{action}/", body)
    assert response.status_code == missing.status_code == 404
    assert not OccurrenceException.objects.exists() and not ApiWrite.objects.exists()


@pytest.mark.parametrize("action", ["cancel", "move"])
def test_staff_without_the_admins_right_are_403(service, weekly, action):
    member = factories.StaffFactory(tier=3, services=[service])
    client = ApiClient(make_token(member)[1])
    body = {"starts_at": SUNDAY.isoformat(), "new_start": (SUNDAY + timedelta(days=1)).isoformat()}
    assert (
        client.post(f"/api/v1/maintenance/windows/{weekly.pk}/{action}/", body).status_code == 403
    )
    assert not OccurrenceException.objects.exists()


@pytest.mark.parametrize("action", ["cancel", "move"])
def test_customers_cannot_cancel_or_move(customer, weekly, action):
    client = ApiClient(make_token(customer)[1])
    body = {"starts_at": SUNDAY.isoformat(), "new_start": (SUNDAY + timedelta(days=1)).isoformat()}
    assert (
        client.post(f"/api/v1/maintenance/windows/{weekly.pk}/{action}/", body).status_code == 403
    )
    assert not OccurrenceException.objects.exists()


@pytest.mark.parametrize("count", [1, 20])
def test_occurrence_queries_do_not_grow(customer, service, clock, count, django_assert_num_queries):
    for n in range(count):
        make_window(service, name=f"Window {n}")
    client = ApiClient(make_token(customer, "read")[1])
    client.get("/api/v1/maintenance/occurrences/")
    # token+user, windows, exceptions
    with django_assert_num_queries(3):
        assert client.get("/api/v1/maintenance/occurrences/").status_code == 200
