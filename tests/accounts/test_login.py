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
