"""Sign-up with an email verified by an emailed link."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts import services
from notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "a-long-unusual-passphrase-42"


def _signup(client, email="New.Person@Example.com", password=PASSWORD, confirm=None):
    return client.post(
        reverse("signup"),
        {"email": email, "password": password, "password_confirm": confirm or password},
    )


def test_signup_creates_an_inactive_user_and_records_the_verification_email(client, link_in_outbox):
    """The account exists but cannot log in until the emailed link is followed."""
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("signup_done")
    user = User.objects.get()
    assert user.username == "new.person@example.com"
    assert user.email == "new.person@example.com"
    assert not user.is_active
    assert user.check_password(PASSWORD)

    notification, path = link_in_outbox(f"accounts:user:{user.pk}:verify:")
    assert notification.to == "new.person@example.com"
    assert path.startswith("/accounts/verify/")
    assert path in notification.body_html

    done = client.get(response["Location"])
    assert "Check your email" in done.text and "new.person@example.com" in done.text
    assert not client.login(username="new.person@example.com", password=PASSWORD)


def test_following_the_link_activates_and_logs_in(client, link_in_outbox):
    """The verification link's button activates the account and signs the person in."""
    _signup(client)
    user = User.objects.get()
    _, path = link_in_outbox("verify")
    response = client.post(path)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user.refresh_from_db()
    assert user.is_active
    home = client.get(reverse("home"))
    assert home.context["user"] == user
    assert "Your email address is confirmed" in home.text


def test_the_link_works_once(client, link_in_outbox):
    """A used link is refused with a clear message, not a second login."""
    _signup(client)
    _, path = link_in_outbox("verify")
    client.post(path)
    client.post(reverse("logout"))
    again = client.post(path)
    assert again.status_code == 200
    assert "already confirmed" in again.text
    assert not again.wsgi_request.user.is_authenticated


def test_a_tampered_token_is_refused(client, link_in_outbox):
    """A forged or mangled link activates nothing and says so."""
    _signup(client)
    _, path = link_in_outbox("verify")
    response = client.post(path.rstrip("/") + "x/")
    assert response.status_code == 400
    assert "This link does not work" in response.text
    assert not User.objects.get().is_active
    garbage = client.post(reverse("verify", args=["!!!", "nope"]))
    assert garbage.status_code == 400


def test_an_expired_link_is_refused(client, link_in_outbox):
    """After PASSWORD_RESET_TIMEOUT (3 days) the link no longer activates the account."""
    _signup(client)
    _, path = link_in_outbox("verify")
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        response = client.post(path)
    assert response.status_code == 400
    assert "expired" in response.text
    assert not User.objects.get().is_active


def test_a_password_reset_token_does_not_verify_an_account(client):
    """The two kinds of link have separate salts: a reset token is no verification token."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    _signup(client)
    user = User.objects.get()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.post(reverse("verify", args=[uid, default_token_generator.make_token(user)]))
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_signup_answers_alike_whether_or_not_the_address_has_an_account(client):
    """An address already in use, in any case, gets the same redirect and page as a new one;
    no second account is made and no verification link sent, its owner is told instead."""
    owner = factories.CustomerFactory(email="taken@example.com", username="taken@example.com")
    new = _signup(client, email="Fresh@Example.COM")
    new_page = client.get(new["Location"])
    taken = _signup(client, email="TAKEN@Example.COM")
    taken_page = client.get(taken["Location"])

    assert (taken.status_code, taken["Location"], taken.content) == (
        new.status_code,
        new["Location"],
        new.content,
    )
    assert taken_page.status_code == new_page.status_code == 200
    assert taken_page.text.replace("taken@", "fresh@") == new_page.text
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert not Notification.objects.filter(key__startswith=f"accounts:user:{owner.pk}:verify:")
    warning = Notification.objects.get(key__contains=":signup_attempted:")
    assert warning.to == "taken@example.com"
    assert "Someone tried to sign up" in warning.subject
    assert "http://testserver/accounts/login/" in warning.body_text
    assert "http://testserver/accounts/password_reset/" in warning.body_text


def test_the_owner_is_warned_at_most_once_an_hour(client):
    """Repeated sign-ups with a taken address email its owner once per hour, not per attempt."""
    factories.CustomerFactory(email="taken@example.com")
    with time_machine.travel("2026-03-02 10:05Z"):
        for _ in range(3):
            assert _signup(client, email="taken@example.com").status_code == 302
    assert Notification.objects.filter(key__contains=":signup_attempted:").count() == 1
    with time_machine.travel("2026-03-02 11:05Z"):
        _signup(client, email="Taken@example.com")
    assert Notification.objects.filter(key__contains=":signup_attempted:").count() == 2


def test_an_unverified_owner_is_offered_a_new_activation_link(client):
    """Signing up again for an account never activated tells its owner how to get a new link."""
    _signup(client, email="slow@example.com")
    _signup(client, email="slow@example.com")
    warning = Notification.objects.get(key__contains=":signup_attempted:")
    assert "http://testserver/accounts/verify/resend/" in warning.body_text
    assert User.objects.count() == 1


def test_a_weak_password_is_refused_alike_for_a_taken_address(client):
    """Password rules are checked before the address, so their errors reveal nothing either."""
    factories.CustomerFactory(email="taken@example.com")
    taken = _signup(client, email="taken@example.com", password="password")
    fresh = _signup(client, email="fresh@example.com", password="password")
    assert taken.status_code == fresh.status_code == 200
    assert taken.context["form"].errors == fresh.context["form"].errors
    assert not Notification.objects.exists()


def test_mismatched_or_weak_passwords_are_refused(client):
    """The confirmation must match, and Django's password validators apply."""
    assert "differ" in _signup(client, confirm="something-else-entirely").text
    weak = _signup(client, password="password")
    assert weak.context["form"].errors["password"]
    assert not User.objects.exists()


def test_resend_sends_a_new_link_only_to_unverified_accounts(client):
    """A lost email can be replaced; the page answers the same for any address."""
    _signup(client)
    first = Notification.objects.count()
    response = client.post(reverse("verify_resend"), {"email": "NEW.person@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("signup_done")
    assert Notification.objects.count() >= first  # same second: same token, same row
    unknown = client.post(reverse("verify_resend"), {"email": "nobody@example.com"})
    assert unknown.status_code == 302
    active = factories.CustomerFactory(email="active@example.com")
    count = Notification.objects.count()
    client.post(reverse("verify_resend"), {"email": active.email})
    assert Notification.objects.count() == count


def test_signup_service_never_makes_a_second_account(db):
    """The service checks too: a second sign-up for one address, in any case, makes no account
    and warns the owner instead."""
    first = services.user_signup(email="race@example.com", password=PASSWORD)
    assert services.user_signup(email="Race@example.com", password=PASSWORD) is None
    assert list(User.objects.all()) == [first]
    assert Notification.objects.get(key__contains=":signup_attempted:").to == "race@example.com"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_sign_ups_for_one_address_make_one_account_and_no_error():
    """Four sign-ups for one address at the same moment: one account, and the others answer
    as any sign-up for a taken address does (no error; the owner is warned, once)."""
    from tests.concurrency import run_together

    results = run_together(
        *(
            lambda email=email: services.user_signup(email=email, password=PASSWORD)
            for email in (
                "race@example.com",
                "Race@example.com",
                "RACE@example.com",
                "race@Example.com",
            )
        )
    )
    assert User.objects.filter(email="race@example.com").count() == 1
    assert sum(result is not None for result in results) == 1
    warnings = Notification.objects.filter(key__contains=":signup_attempted:")
    assert [warning.to for warning in warnings] == ["race@example.com"]
