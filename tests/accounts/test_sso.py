"""Single sign-on through a real OpenID Connect provider on loopback (django-oauth-toolkit in
its own process, tests/accounts/oidc_provider/): discovery, PKCE, ID tokens checked against the
provider's keys, groups mapped to tiers and services, SSO-only staff, and sessions that end
when the provider stops vouching for the person.

The provider runs on the real clock and the portal checks its ID tokens against that clock, so
these tests move the portal's clock only forward from the real time (time_machine, ticking),
never to a fixed date.
"""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts import oidc, sessions
from accounts.models import OidcIdentity
from accounts.roles import staff_tier_level
from sla.models import StaffService
from tests import factories
from tests.accounts.oidc_provider.harness import IDP_PASSWORD, Provider
from tests.concurrency import run_together
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

GROUP_MAP = {
    "support-l1": {"tier": 1},
    "support-l2": {"tier": 2},
    "support-l3": {"tier": 3},
    "team-acme": {"services": ["acme"]},
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    running = Provider(tmp_path_factory.mktemp("idp"))
    yield running
    running.stop()


@pytest.fixture
def sso(settings, provider, tier_groups):
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = provider.client_id
    settings.OIDC_CLIENT_SECRET = provider.client_secret
    settings.OIDC_GROUP_MAP = GROUP_MAP
    settings.OIDC_FOR_CUSTOMERS = False
    settings.OIDC_REQUIRED_FOR_STAFF = False
    settings.OIDC_RECHECK_MINUTES = 5
    return provider


_people = iter(range(10_000))


def person(prefix="p"):
    n = next(_people)
    return f"{prefix}{n}", f"{prefix}{n}@corp.example.com"


def signed_in_user(client):
    return client.get(reverse("home")).context["user"]


def test_staff_sign_in_maps_groups_to_tier_and_services(client, sso):
    """A first sign-in makes a staff account from the ID token: the provider's groups give
    Tier 2 and the acme service; the request used discovery's endpoint with PKCE (S256)."""
    acme = factories.ServiceFactory(slug="acme")
    factories.ServiceFactory(slug="other")
    username, email = person()
    subject = sso.add_user(username, email=email, groups=["support-l2", "team-acme"])

    response, authorize_url = sso.sign_in(client, username)

    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    user = get_user_model().objects.get(email=email)
    assert user.is_staff and not user.has_usable_password()
    assert staff_tier_level(user) == 2
    assert list(StaffService.objects.filter(user=user).values_list("service", flat=True)) == [
        acme.pk
    ]
    assert OidcIdentity.objects.get(user=user).subject == subject
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.session[sessions.METHOD_KEY] == sessions.SSO


def test_the_callback_refuses_a_code_of_another_session(client, sso):
    """A callback whose state this session did not start (a code pasted or forged into
    someone else's browser) is refused, and nobody is signed in."""
    username, email = person()
    sso.add_user(username, email=email, groups=["support-l1"])
    other = client.__class__()
    response = other.get("/accounts/sso/login/")
    location = sso._browse(requests.Session(), response["Location"], username, IDP_PASSWORD)
    callback = urlsplit(location)

    stolen = client.get(f"{callback.path}?{callback.query}")

    assert stolen.status_code == 400
    assert not signed_in_user(client).is_authenticated
    assert not get_user_model().objects.filter(email=email).exists()


def test_an_existing_account_is_linked_by_verified_email(client, sso):
    """A staff member who had a password account keeps it: the verified email links it to the
    provider's subject (no second account), and the provider's tier replaces the old one."""
    staff = factories.StaffFactory(email="dana@corp.example.com", tier=1)
    sso.add_user("dana", email="Dana@Corp.example.com", groups=["support-l3"])

    response, _ = sso.sign_in(client, "dana")

    assert response.status_code == 302
    assert signed_in_user(client) == staff
    assert OidcIdentity.objects.get(user=staff)
    staff.refresh_from_db()
    assert staff_tier_level(staff) == 3
    assert get_user_model().objects.filter(email__iexact="dana@corp.example.com").count() == 1


def test_an_unverified_email_links_nothing(client, sso):
    """An address the provider does not vouch for cannot take over the account that uses it."""
    factories.StaffFactory(email="eve@corp.example.com", tier=3)
    sso.add_user("eve-at-idp", email="eve@corp.example.com", groups=["support-l3"], verified=False)

    response, _ = sso.sign_in(client, "eve-at-idp")

    assert response.status_code == 403
    assert "verified email" in response.text
    assert not OidcIdentity.objects.exists()
    assert not signed_in_user(client).is_authenticated


def test_customers_only_when_the_setting_allows(client, sso, settings):
    """Someone in no mapped group is refused unless OIDC_FOR_CUSTOMERS; then they get an active
    customer account (not staff)."""
    username, email = person("cust")
    sso.add_user(username, email=email, groups=["sales"])
    response, _ = sso.sign_in(client, username)
    assert response.status_code == 403
    assert "for staff" in response.text
    assert not get_user_model().objects.filter(email=email).exists()

    settings.OIDC_FOR_CUSTOMERS = True
    response, _ = sso.sign_in(client, username)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = signed_in_user(client)
    assert user.email == email and user.is_active and not user.is_staff


def test_a_map_naming_an_unknown_service_refuses_rather_than_widening(client, sso):
    """A group map naming a service that does not exist refuses the sign-in: silently
    dropping it would leave the member with no service rows, i.e. every service."""
    username, email = person()
    sso.add_user(username, email=email, groups=["support-l1", "team-acme"])
    response, _ = sso.sign_in(client, username)
    assert response.status_code == 403
    assert "acme" in response.text
    assert not get_user_model().objects.filter(email=email).exists()


def test_losing_the_tier_group_at_the_provider_takes_effect_at_the_next_check(client, sso):
    """Groups changed at the provider apply at the next re-check: the member's refreshed ID
    token says no tier any more, so staff access and the session end."""
    username, email = person()
    sso.add_user(username, email=email, groups=["support-l2"])
    sso.sign_in(client, username)
    user = get_user_model().objects.get(email=email)
    sso.set_groups(username, [])

    with time_machine.travel(datetime.now(tz=UTC) + timedelta(minutes=6), tick=True):
        response = client.get(reverse("admin:index"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    user.refresh_from_db()
    assert not user.is_staff and staff_tier_level(user) is None


@pytest.mark.parametrize("what", ["deactivate", "delete"])
def test_removed_or_deactivated_at_the_provider_loses_the_session(client, sso, what):
    """Deactivated or deleted at the provider: the session works until the next re-check
    (OIDC_RECHECK_MINUTES), then the provider refuses the refresh token and the very next
    request is signed out, long before the session cookie would expire."""
    username, email = person()
    sso.add_user(username, email=email, groups=["support-l1"])
    sso.sign_in(client, username)
    getattr(sso, what)(username)

    assert client.get(reverse("admin:index")).status_code == 200  # within the interval
    with time_machine.travel(datetime.now(tz=UTC) + timedelta(minutes=6), tick=True):
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert not signed_in_user(client).is_authenticated


def test_a_session_the_provider_still_vouches_for_goes_on_with_a_rotated_token(client, sso):
    """At the re-check the provider refreshes the grant: the session goes on, and the next
    check uses the new refresh token (the provider rotates them)."""
    username, email = person()
    sso.add_user(username, email=email, groups=["support-l1"])
    sso.sign_in(client, username)
    identity = OidcIdentity.objects.get(user__email=email)
    first_token = identity.refresh_token
    assert first_token

    for minutes in (6, 12):
        with time_machine.travel(datetime.now(tz=UTC) + timedelta(minutes=minutes), tick=True):
            assert client.get(reverse("admin:index")).status_code == 200
    identity.refresh_from_db()
    assert identity.refresh_token not in ("", first_token)


def test_an_unreachable_provider_is_retried_then_fails_closed(client, sso, settings):
    """A provider that cannot be reached does not end sessions at once (retried a minute
    later), but after four intervals without an answer the session ends."""
    username, email = person()
    sso.add_user(username, email=email, groups=["support-l1"])
    sso.sign_in(client, username)
    oidc.client().server_metadata["token_endpoint"] = "http://127.0.0.1:9/token"  # closed
    try:
        now = datetime.now(tz=UTC)
        with time_machine.travel(now + timedelta(minutes=6), tick=True):
            assert client.get(reverse("admin:index")).status_code == 200
        with time_machine.travel(now + timedelta(minutes=21), tick=True):
            assert client.get(reverse("admin:index")).status_code == 302
    finally:
        oidc.client().server_metadata.pop("_loaded_at", None)  # rediscover next time


def test_sso_required_for_staff(client, sso, settings):
    """With OIDC_REQUIRED_FOR_STAFF a staff password is refused on the portal and the admin
    log-in (the same answer as a wrong one), the admin log-in page sends staff to the
    provider, a staff session made by password ends, and customers still use passwords."""
    staff = factories.StaffFactory(email="frank@corp.example.com", tier=1)
    password_session = client.__class__()
    password_session.post(reverse("login"), {"username": staff.email, "password": PASSWORD})
    assert password_session.get(reverse("admin:index")).status_code == 200
    settings.OIDC_REQUIRED_FOR_STAFF = True

    refused = client.post(reverse("login"), {"username": staff.email, "password": PASSWORD})
    assert refused.status_code == 200 and "do not match" in refused.text
    refused = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert refused.status_code == 200 and not signed_in_user(client).is_authenticated
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 302
    assert login_page["Location"].startswith(reverse("sso_login"))
    ended = password_session.get(reverse("admin:index"))
    assert ended.status_code == 302 and ended["Location"].startswith(reverse("login"))

    customer = factories.CustomerFactory()
    ok = client.post(reverse("login"), {"username": customer.email, "password": PASSWORD})
    assert ok.status_code == 302

    sso.add_user("frank", email=staff.email, groups=["support-l1"])
    response, _ = sso.sign_in(client, "frank", start=login_page["Location"])
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_login_page_offers_the_provider(client, sso, settings):
    settings.OIDC_PROVIDER_NAME = "Corp ID"
    page = client.get(reverse("login") + "?next=/tickets/")
    assert "Sign in with Corp ID" in page.text
    assert reverse("sso_login") + "?next=/tickets/" in page.text


def test_sso_pages_are_404_when_not_configured(client, settings):
    settings.OIDC_ISSUER = ""
    assert client.get(reverse("sso_login")).status_code == 404
    assert client.get(reverse("sso_callback")).status_code == 404
    assert "Sign in with" not in client.get(reverse("login")).text


def test_the_group_map_is_checked_at_start_up(settings):
    """A wrong OIDC_GROUP_MAP is a system-check error (deploy fails), not a surprise at the
    first staff sign-in."""
    from accounts.checks import check_oidc_settings

    settings.OIDC_GROUP_MAP = json.loads('{"x": {"tier": 4}, "y": {"services": "acme"}}')
    ids = {error.id for error in check_oidc_settings(None)}
    assert ids == {"accounts.E003", "accounts.E004"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rechecks_spend_the_rotated_refresh_token_once(client, sso):
    """Several requests of one person re-checking at the same moment (tabs, devices) ask the
    provider once: the others wait on the identity's row lock and take its answer. Without
    the lock each would present the same refresh token, the provider (which rotates them)
    would refuse all but the first, and those sessions would end."""
    username, email = person()
    sso.add_user(username, email=email, groups=["support-l1"])
    sso.sign_in(client, username)
    identity = OidcIdentity.objects.get(user__email=email)
    OidcIdentity.objects.filter(pk=identity.pk).update(
        checked_at=timezone.now() - timedelta(minutes=10)
    )

    def recheck():
        user = get_user_model().objects.get(pk=identity.user_id)
        return oidc._recheck(identity_id=identity.pk, user=user, interval=300)[0]

    assert run_together(*[recheck] * 4) == [True] * 4
    identity.refresh_from_db()
    assert identity.refresh_token and identity.checked_at > timezone.now() - timedelta(minutes=1)
