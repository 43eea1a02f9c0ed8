"""Sessions end before their cookie does: signed out everywhere, idle staff, deactivated
accounts (single sign-on sessions ended by the provider: tests/accounts/test_sso.py)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def signed_in(client):
    response = client.get(reverse("home"))
    if response.status_code == 302:  # the session was ended by this very request
        assert response["Location"].startswith(reverse("login"))
        return False
    return response.context["user"].is_authenticated


def log_in(user):
    client = Client()
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
        "django.contrib.sessions.backends.cache",
    ],
)
def test_sign_out_everywhere_ends_every_session(settings, engine):
    """ "Sign out everywhere" on one device ends every session of the account at its next
    request — made by the log-in page or otherwise — whatever the session store; other
    accounts keep theirs, and signing in again works."""
    settings.SESSION_ENGINE = engine
    customer = factories.CustomerFactory()
    laptop, phone = log_in(customer), log_in(customer)
    old = Client()
    old.force_login(customer)  # a session from before generations existed
    bystander = log_in(factories.CustomerFactory())
    assert all(signed_in(c) for c in (laptop, phone, old, bystander))

    profile = laptop.get(reverse("profile"))
    assert reverse("sign_out_everywhere") in profile.text
    response = laptop.post(reverse("sign_out_everywhere"))
    assert response.status_code == 302 and response["Location"] == reverse("login")

    assert not signed_in(laptop)
    ended = phone.get(reverse("profile"))
    assert ended.status_code == 302 and ended["Location"].startswith(reverse("login"))
    assert not signed_in(phone) and not signed_in(old)
    assert signed_in(bystander)
    assert signed_in(log_in(customer))


def test_sign_out_everywhere_is_a_post(client):
    client.force_login(factories.CustomerFactory())
    assert client.get(reverse("sign_out_everywhere")).status_code == 405
    assert signed_in(client)


def test_idle_staff_sessions_end(settings, clock):
    """A staff session unused for STAFF_SESSION_IDLE_MINUTES ends at its next request; use
    keeps it alive; customers' sessions are not limited this way."""
    settings.STAFF_SESSION_IDLE_MINUTES = 30
    staff = log_in(factories.StaffFactory(tier=1))
    customer = log_in(factories.CustomerFactory())

    for minutes in (29, 58, 87):  # used every 29 minutes: never idle for 30
        clock.move_to(NOW + timedelta(minutes=minutes))
        assert staff.get(reverse("admin:index")).status_code == 200
    clock.move_to(NOW + timedelta(minutes=87 + 31))
    response = staff.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    page = staff.get(response["Location"])
    assert "inactivity" in page.text
    assert signed_in(customer)


def test_idle_expiry_off_with_zero(settings, clock):
    settings.STAFF_SESSION_IDLE_MINUTES = 0
    staff = log_in(factories.StaffFactory(tier=1))
    clock.move_to(NOW + timedelta(days=3))
    assert staff.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("kind", ["customer", "staff"])
def test_a_deactivated_account_loses_access_at_the_next_request(kind):
    """is_active off (by an admin, or a provider sync) ends the session at once: Django's
    session check asks the login backend for the user on every request, and it refuses an
    inactive one."""
    user = (factories.CustomerFactory if kind == "customer" else factories.StaffFactory)()
    client = log_in(user)
    assert signed_in(client)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not signed_in(client)
    assert client.get(reverse("profile")).status_code == 302
    if kind == "staff":
        assert client.get(reverse("admin:index")).status_code == 302
