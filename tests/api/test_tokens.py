"""API tokens: stored hashed, shown once, scoped, expiring, revocable, throttled, attributed."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from api import services
from api.models import ApiToken, ApiWrite
from tests import factories
from tests.accounts.test_two_factor import NOW as TWO_FACTOR_NOW
from tests.accounts.test_two_factor import code_for, enrolled
from tests.api.conftest import ApiClient, make_token

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_only_a_hash_of_the_token_is_stored(customer):
    """The database holds the SHA-256 of the value and its public prefix, never the value."""
    token, raw = make_token(customer)
    assert re.fullmatch(r"spt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", raw)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.split("_")[1] == token.prefix
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert not any(raw in str(value) for value in stored.values())


def test_kind_follows_the_user(customer, tier1_staff):
    assert make_token(customer)[0].kind == ApiToken.Kind.CUSTOMER
    assert make_token(tier1_staff)[0].kind == ApiToken.Kind.STAFF


@pytest.mark.parametrize(
    ("days", "field"), [(0, "expires_at"), (-1, "expires_at"), (400, "expires_at")]
)
def test_a_token_must_expire_within_a_year(customer, days, field):
    with pytest.raises(ValidationError) as error:
        services.token_create(
            user=customer, name="x", scope="read", expires_at=timezone.now() + timedelta(days=days)
        )
    assert field in error.value.message_dict
    assert not ApiToken.objects.exists()


def test_a_valid_token_is_accepted(customer, ticket):
    response = ApiClient(make_token(customer, "read")[1]).get("/api/v1/tickets/")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer spt_00000000_nope",
        "Bearer not-a-token",
    ],
)
def test_no_or_a_wrong_token_is_401_problem(customer, ticket, header):
    headers = {"Authorization": header} if header else {}
    response = ApiClient().get("/api/v1/tickets/", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["status"] == 401


def test_a_tampered_secret_with_a_real_prefix_is_refused(customer, ticket):
    token, raw = make_token(customer)
    tampered = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    assert ApiClient(tampered).get("/api/v1/tickets/").status_code == 401


def test_a_revoked_token_is_refused(customer, ticket):
    token, raw = make_token(customer)
    services.token_revoke(token=token, by=customer)
    client = ApiClient(raw)
    assert client.get("/api/v1/tickets/").status_code == 401
    response = client.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "hello"})
    assert response.status_code == 401
    assert not ticket.messages.exists()


def test_an_expired_token_is_refused(customer, ticket):
    raw = make_token(customer, days=1)[1]
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = ApiClient(raw).post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "x"})
    assert response.status_code == 401
    assert not ticket.messages.exists()


def test_a_read_only_token_may_read_but_not_write(customer, ticket):
    client = ApiClient(make_token(customer, "read")[1])
    assert client.get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200
    response = client.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "hello"})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert not ticket.messages.exists() and not ApiWrite.objects.exists()


def test_a_token_of_an_inactive_user_is_refused(customer, ticket):
    raw = make_token(customer)[1]
    customer.is_active = False
    customer.save(update_fields=["is_active"])
    assert ApiClient(raw).get("/api/v1/tickets/").status_code == 401


def test_a_customer_token_does_not_become_a_staff_token(customer, ticket):
    """A customer made staff keeps no working customer token: it would now act as staff."""
    raw = make_token(customer)[1]
    customer.is_staff = True
    customer.save(update_fields=["is_staff"])
    customer.groups.add(factories.tier_group(1))
    assert ApiClient(raw).get("/api/v1/tickets/").status_code == 401


def test_a_staff_token_stops_when_its_user_leaves_the_tiers(tier1_staff, ticket):
    raw = make_token(tier1_staff)[1]
    tier1_staff.groups.clear()
    assert ApiClient(raw).get("/api/v1/tickets/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(customer, ticket, django_assert_num_queries):
    token, raw = make_token(customer, "read")
    client = ApiClient(raw)
    with time_machine.travel(NOW, tick=False):
        client.get("/api/v1/tickets/")
        token.refresh_from_db()
        assert token.last_used_at == NOW
    with time_machine.travel(NOW + timedelta(seconds=59), tick=False):
        client.get("/api/v1/tickets/")
        token.refresh_from_db()
        assert token.last_used_at == NOW
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        client.get("/api/v1/tickets/")
        token.refresh_from_db()
        assert token.last_used_at == NOW + timedelta(seconds=61)


def test_requests_beyond_the_rate_are_429_per_token(customer, ticket, settings):
    settings.API_TOKEN_RATE = "3/minute"
    first, second = ApiClient(make_token(customer)[1]), ApiClient(make_token(customer)[1])
    with time_machine.travel(NOW, tick=False):
        assert [first.get("/api/v1/tickets/").status_code for _ in range(3)] == [200] * 3
        refused = first.get("/api/v1/tickets/")
        assert second.get("/api/v1/tickets/").status_code == 200  # its own budget
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) > 0


def test_every_write_records_its_token(customer, ticket):
    token, raw = make_token(customer)
    response = ApiClient(raw).post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "hello"})
    assert response.status_code == 201
    write = ApiWrite.objects.get()
    assert (write.token, write.user, write.method, write.target) == (
        token,
        customer,
        "POST",
        f"message:{response.json()['id']}",
    )
    assert write.path == f"/api/v1/tickets/{ticket.pk}/messages/"


def test_a_refused_write_records_nothing(customer, ticket):
    raw = make_token(customer)[1]
    response = ApiClient(raw).post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "   "})
    assert response.status_code == 400
    assert not ApiWrite.objects.exists() and not ticket.messages.exists()


# --- the tokens page --------------------------------------------------------------------------


def test_the_page_shows_a_new_token_once(client, customer):
    client.force_login(customer)
    url = reverse("api_pages:tokens")
    response = client.post(url, {"name": "monitoring", "scope": "write", "lifetime": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = re.search(rb"spt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", response.content).group().decode()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope, token.kind) == (
        customer,
        "monitoring",
        "write",
        "customer",
    )
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    again = client.get(url)
    assert raw.encode() not in again.content and token.prefix.encode() in again.content


def test_the_page_has_no_inline_script_or_style(client, customer):
    client.force_login(customer)
    make_token(customer)
    content = client.get(reverse("api_pages:tokens")).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content)
    assert " style=" not in content and "<style" not in content


def test_the_page_refuses_anonymous_visitors(client):
    response = client.get(reverse("api_pages:tokens"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_user_revokes_their_token_on_the_page(client, customer, ticket):
    token, raw = make_token(customer)
    client.force_login(customer)
    response = client.post(reverse("api_pages:revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == customer
    assert ApiClient(raw).get("/api/v1/tickets/").status_code == 401


def test_nobody_revokes_anothers_token_on_the_page(client, customer, other_customer):
    token, _ = make_token(customer)
    client.force_login(other_customer)
    assert client.post(reverse("api_pages:revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_profile_page_links_to_the_tokens(client, customer):
    client.force_login(customer)
    assert reverse("api_pages:tokens").encode() in client.get(reverse("profile")).content


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(is_staff=True, is_superuser=True, email="root@example.com")


def test_an_admin_creates_a_token_shown_once(client, admin_user, customer):
    client.force_login(admin_user)
    expires = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%d %H:%M:%S")
    date, time = expires.split()
    response = client.post(
        reverse("admin:api_apitoken_add"),
        {
            "user": customer.pk,
            "name": "reporting",
            "scope": "read",
            "expires_at_0": date,
            "expires_at_1": time,
        },
    )
    assert response.status_code == 200, response.content[:500]
    raw = re.search(rb"spt_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", response.content).group().decode()
    token = ApiToken.objects.get()
    assert (token.user, token.created_by, token.kind) == (customer, admin_user, "customer")
    assert ApiClient(raw).get("/api/v1/tickets/").status_code == 200


def test_an_admin_revokes_tokens(client, admin_user, customer):
    token, raw = make_token(customer)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == admin_user
    assert ApiClient(raw).get("/api/v1/tickets/").status_code == 401


def test_staff_who_are_not_superusers_do_not_see_tokens(client, tier3_staff):
    client.force_login(tier3_staff)
    assert client.get(reverse("admin:api_apitoken_changelist")).status_code == 403


# --- staff's second factor (STAFF_2FA_REQUIRED) ------------------------------------------------


def _create_on_page(client):
    return client.post(
        reverse("api_pages:tokens"), {"name": "deploys", "scope": "write", "lifetime": "30"}
    )


def test_staff_owe_the_token_page_their_second_factor(client, settings, tier2_staff):
    """With STAFF_2FA_REQUIRED, a password alone mints no staff token: the page sends a member
    without an authenticator to set one up, and one whose session has not used theirs to the
    code step, coming back to the page after; nothing is created on the way. Verified, the
    page makes the token."""
    settings.STAFF_2FA_REQUIRED = True
    page = reverse("api_pages:tokens")
    with time_machine.travel(TWO_FACTOR_NOW, tick=False):
        client.force_login(tier2_staff)
        for response in (client.get(page), _create_on_page(client)):
            assert response.status_code == 302
            assert response["Location"] == f"{reverse('two_factor')}?next=%2Fapi%2Ftokens%2F"
        assert not ApiToken.objects.exists()

        device, _ = enrolled(tier2_staff)
        response = _create_on_page(client)
        assert response["Location"] == f"{reverse('two_factor_verify')}?next=%2Fapi%2Ftokens%2F"
        assert not ApiToken.objects.exists()

        done = client.post(response["Location"], {"code": code_for(device, 1)})
        assert done["Location"] == page
        assert _create_on_page(client).status_code == 200
        token = ApiToken.objects.get()
        assert (token.user, token.kind) == (tier2_staff, ApiToken.Kind.STAFF)


def test_without_the_requirement_and_for_customers_the_page_asks_no_second_factor(
    client, settings, tier2_staff, customer
):
    """Customers never owe it; staff only while STAFF_2FA_REQUIRED is on. Revoking never needs
    it: taking a token away gives nobody more power."""
    settings.STAFF_2FA_REQUIRED = True
    client.force_login(customer)
    assert _create_on_page(client).status_code == 200
    token, _ = make_token(tier2_staff)
    client.force_login(tier2_staff)
    assert client.post(reverse("api_pages:revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == tier2_staff
    settings.STAFF_2FA_REQUIRED = False
    assert _create_on_page(client).status_code == 200
    assert ApiToken.objects.filter(user=tier2_staff, revoked_at__isnull=True).count() == 1
