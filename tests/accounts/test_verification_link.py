"""The verification link confirms on a button press, never on GET, and is idempotent: opened
twice, or by a mail scanner first, it still works, and pressed again it says "already
confirmed"."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def link(client, link_in_outbox):
    client.post(
        reverse("signup"),
        {"email": "pat@example.org", "password": PASSWORD, "password_confirm": PASSWORD},
    )
    _, path = link_in_outbox("verify")
    return path


def test_opening_the_link_shows_a_button_and_confirms_nothing(client, link):
    """GET (a person, a mail scanner, a link preview) shows "Confirm my address" and leaves
    the account inactive and nobody signed in."""
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200
        assert "Confirm my address" in page.text
        assert f'action="{link}"' in page.text or '<form method="post">' in page.text
    assert not User.objects.get().is_active
    assert not page.wsgi_request.user.is_authenticated


def test_a_scanner_opening_the_link_first_leaves_it_working(client, link):
    """A scanner's GET from elsewhere, then the person's press: the account is confirmed and
    the person signed in."""
    from django.test import Client

    Client().get(link)
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert User.objects.get().is_active
    assert client.get(reverse("home")).wsgi_request.user.is_authenticated


def test_pressing_twice_says_already_confirmed(client, link):
    """A second press (another tab, signed out, or the same session) answers "already
    confirmed, sign in", not "invalid link"."""
    client.post(link)
    same_session = client.post(link)
    assert same_session.status_code == 200
    assert "already confirmed" in same_session.text

    from django.test import Client

    other = Client()
    again = other.post(link)
    assert again.status_code == 200
    assert "already confirmed" in again.text and reverse("login") in again.text
    assert not again.wsgi_request.user.is_authenticated
    reopened = other.get(link)
    assert reopened.status_code == 200 and "already confirmed" in reopened.text


def test_a_forged_link_for_a_confirmed_account_is_still_refused(client, link):
    """ "Already confirmed" is said only for the account's real link: a made-up token for the
    same account answers "does not work"."""
    client.post(link)
    uid = link.split("/")[-3]
    forged = client.post(reverse("verify", args=[uid, "abc-0123456789abcdef"]))
    assert forged.status_code == 400
    assert "already confirmed" not in forged.text
