"""The signed-in customer's maintenance and status subscriptions through the API: list, create,
change topics, delete — the portal's subscriptions page's choices, through
maintenance.subscriptions.subscription_choose, only for the customer's own services."""

import pytest

from api.models import ApiWrite
from maintenance.models import Subscription
from tests import factories
from tests.api.conftest import ApiClient, make_token

pytestmark = pytest.mark.django_db

LIST = "/api/v1/subscriptions/"


@pytest.fixture
def services(db):
    return [factories.ServiceFactory(name="Alpha"), factories.ServiceFactory(name="Beta")]


@pytest.fixture
def member(services):
    return factories.CustomerFactory(services=services)


def _client(user, scope="write"):
    return ApiClient(make_token(user, scope)[1])


def _patch(client, path, body):
    headers = client._headers(None)
    return client.client.patch(path, body, content_type="application/json", headers=headers)


def _delete(client, path):
    return client.client.delete(path, headers=client._headers(None))


def _row(service, maintenance=True, incidents=True, subscribed=True):
    return {
        "service": service.slug,
        "service_name": service.name,
        "maintenance": maintenance,
        "incidents": incidents,
        "subscribed": subscribed,
    }


def test_a_customer_lists_their_services_subscribed_by_default(member, services):
    factories.ServiceFactory(name="Not mine")
    response = _client(member).get(LIST)
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [_row(services[0]), _row(services[1])]


def test_create_change_and_delete_go_through_the_portals_choice(member, services):
    alpha, beta = services
    client = _client(member)
    created = client.post(LIST, {"service": alpha.slug, "incidents": False})
    assert created.status_code == 201, created.content
    assert created.json() == _row(alpha, incidents=False)
    subscription = Subscription.objects.get(user=member, service=alpha)
    assert (subscription.maintenance, subscription.incidents, subscription.active) == (
        True,
        False,
        True,
    )
    changed = _patch(client, f"{LIST}{alpha.slug}/", {"incidents": True, "maintenance": False})
    assert changed.status_code == 200 and changed.json() == _row(alpha, maintenance=False)
    deleted = _delete(client, f"{LIST}{alpha.slug}/")
    assert deleted.status_code == 204
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
    assert client.get(f"{LIST}{alpha.slug}/").json() == _row(alpha, False, False, False)
    # Hearing one topic again subscribes again, as on the page.
    again = _patch(client, f"{LIST}{alpha.slug}/", {"maintenance": True})
    assert again.json() == _row(alpha, maintenance=True, incidents=False)
    assert client.get(LIST).json()["results"] == [
        _row(alpha, maintenance=True, incidents=False),
        _row(beta),
    ]
    target = f"subscription:{subscription.pk}"
    assert [w.target for w in ApiWrite.objects.order_by("id")] == [target] * 4


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"maintenance": False}), ("delete", None), ("post", None)],
)
def test_another_customers_service_is_404_and_nothing_changes(member, method, body):
    elsewhere = factories.ServiceFactory(name="Elsewhere")
    stranger = factories.CustomerFactory(services=[elsewhere])
    before = Subscription.objects.filter(user=stranger).count()
    client = _client(member)
    path = f"{LIST}{elsewhere.slug}/"
    if method == "get":
        response = client.get(path)
    elif method == "patch":
        response = _patch(client, path, body)
    elif method == "delete":
        response = _delete(client, path)
    else:
        response = client.post(LIST, {"service": elsewhere.slug})
    assert response.status_code == 404, response.content
    assert not Subscription.objects.filter(user=member).exists()
    assert Subscription.objects.filter(user=stranger).count() == before
    assert not ApiWrite.objects.exists()


def test_staff_have_no_subscriptions_here(tier1_staff, services):
    client = _client(tier1_staff)
    assert client.get(LIST).json() == {"results": []}
    assert client.post(LIST, {"service": services[0].slug}).status_code == 404
    assert not Subscription.objects.exists()


def test_a_read_token_may_not_change_them(member, services):
    client = _client(member, "read")
    assert client.post(LIST, {"service": services[0].slug}).status_code == 403
    assert _delete(client, f"{LIST}{services[0].slug}/").status_code == 403
    assert not Subscription.objects.exists()


def test_a_bad_body_is_a_400(member, services):
    response = _patch(_client(member), f"{LIST}{services[0].slug}/", {"maintenance": "perhaps"})
    assert response.status_code == 400
    assert "maintenance" in response.json()["errors"]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("count", [1, 30])
def test_list_queries_do_not_grow(count, django_assert_num_queries):
    member = factories.CustomerFactory(services=[factories.ServiceFactory() for _ in range(count)])
    client = _client(member, "read")
    client.get(LIST)  # last_used_at written
    # token+user, the customer's services, their subscriptions
    with django_assert_num_queries(3):
        assert len(client.get(LIST).json()["results"]) == count


def test_a_path_with_a_newline_is_a_problem_404_not_the_portals_page(member):
    response = _client(member).get(f"{LIST}a%0Ab/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
