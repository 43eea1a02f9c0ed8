"""Log in by email, log out, and the log-in throttle."""

import re

import pytest
from django.urls import reverse

from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_asks_for_an_email(client):
    """The log-in form's identifier is labelled Email."""
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert re.search(r"<label[^>]*>\s*Email\b", response.text)


def test_login_by_email_in_any_case(client):
    """A customer signs in with their email, whatever its case."""
    user = factories.CustomerFactory(email="casey@example.com")
    response = client.post(
        reverse("login"), {"username": "Casey@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == user


def test_wrong_password_gives_a_clear_error(client):
    """A failed log-in says what to check, without telling which part was wrong."""
    factories.CustomerFactory(email="casey@example.com")
    response = client.post(reverse("login"), {"username": "casey@example.com", "password": "x"})
    assert response.status_code == 200
    assert "do not match an active account" in response.text


def test_logout_is_a_post(client):
    """Log-out is a POST (a link or image cannot sign someone out) and ends the session."""
    user = factories.CustomerFactory()
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_lockout_after_five_failures(client, settings):
    """After 5 failed attempts, even the right password is refused with the lockout page."""
    settings.AXES_ENABLED = True
    factories.CustomerFactory(email="target@example.com")
    statuses = [
        client.post(
            reverse("login"), {"username": "target@example.com", "password": "wrong"}
        ).status_code
        for _ in range(5)
    ]
    # Axes answers the 5th failure itself with the lockout page.
    assert statuses[:4] == [200] * 4 and statuses[4] in (403, 429)
    response = client.post(
        reverse("login"), {"username": "target@example.com", "password": PASSWORD}
    )
    assert response.status_code in (403, 429)
    assert "Too many failed log-in attempts" in response.text
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_a_success_before_the_limit_resets_the_count(client, settings):
    """Four slips then the right password is a normal log-in."""
    settings.AXES_ENABLED = True
    factories.CustomerFactory(email="slips@example.com")
    for _ in range(4):
        client.post(reverse("login"), {"username": "slips@example.com", "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": "slips@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302


def _locked_out(response):
    return response.status_code in (403, 429) and "Too many failed log-in attempts" in response.text


SPELLINGS = (
    "Target@Example.com",
    " target@example.com ",
    "TARGET@EXAMPLE.COM",
    "tArGeT@example.com",
    "target@example.COM  ",
)


def test_every_spelling_of_an_address_counts_towards_one_lockout(client, settings):
    """Five failures under five spellings (case, surrounding spaces) lock the one account: the
    right password, under yet another spelling, is then refused."""
    settings.AXES_ENABLED = True
    factories.CustomerFactory(email="target@example.com")
    responses = [
        client.post(reverse("login"), {"username": spelling, "password": "wrong"})
        for spelling in SPELLINGS
    ]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert _locked_out(responses[4])
    response = client.post(
        reverse("login"), {"username": "target@example.com", "password": PASSWORD}
    )
    assert _locked_out(response)
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_every_spelling_counts_towards_one_lockout_on_the_admin_login(client, settings):
    """The admin's log-in form is throttled the same way, superuser included: five spellings
    lock the account and its right password is then refused."""
    settings.AXES_ENABLED = True
    factories.UserFactory(
        email="target@example.com", username="target@example.com", is_staff=True, is_superuser=True
    )
    url = reverse("admin:login")
    responses = [
        client.post(url, {"username": spelling, "password": "wrong", "next": "/admin/"})
        for spelling in SPELLINGS
    ]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert _locked_out(responses[4])
    response = client.post(
        url, {"username": "Target@example.com", "password": PASSWORD, "next": "/admin/"}
    )
    assert _locked_out(response)
    assert client.get(reverse("admin:index")).status_code == 302  # still sent to log in


def test_a_staff_members_username_and_email_share_one_count(client, settings):
    """Staff may sign in by username or email: both name one account, with one set of tries."""
    settings.AXES_ENABLED = True
    factories.StaffFactory(username="tier3", email="tier3@example.com")
    for identifier in ("tier3", "Tier3@example.com", "TIER3", "tier3@example.com", " tier3 "):
        last = client.post(reverse("login"), {"username": identifier, "password": "wrong"})
    assert _locked_out(last)
    assert _locked_out(client.post(reverse("login"), {"username": "tier3", "password": PASSWORD}))


def test_a_success_resets_only_its_own_accounts_count(client, settings):
    """After four failures, the owner's log-in under another spelling clears that account's
    count (the same identity), while failures against another account keep counting."""
    settings.AXES_ENABLED = True
    factories.CustomerFactory(email="owner@example.com")
    factories.CustomerFactory(email="other@example.com")
    for spelling in (
        "OWNER@example.com",
        " owner@example.com",
        "Owner@Example.com",
        "owner@EXAMPLE.com",
    ):
        client.post(reverse("login"), {"username": spelling, "password": "wrong"})
    for _ in range(4):
        client.post(reverse("login"), {"username": "other@example.com", "password": "wrong"})
    assert (
        client.post(
            reverse("login"), {"username": "Owner@example.com", "password": PASSWORD}
        ).status_code
        == 302
    )
    client.post(reverse("logout"))
    for _ in range(4):
        assert (
            client.post(
                reverse("login"), {"username": "OWNER@example.com", "password": "wrong"}
            ).status_code
            == 200
        )
    assert _locked_out(
        client.post(reverse("login"), {"username": "OTHER@example.com", "password": "wrong"})
    )
