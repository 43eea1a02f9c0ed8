"""Password reset through the outbox, and password change."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-77"


def test_password_reset_email_is_recorded_in_the_outbox(client, link_in_outbox):
    """The reset email is an outbox row with the reset link; the link sets a new password."""
    user = factories.CustomerFactory(email="forgetful@example.com")
    response = client.post(reverse("password_reset"), {"email": "Forgetful@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    notification, path = link_in_outbox(f"accounts:user:{user.pk}:password_reset:")
    assert notification.to == "forgetful@example.com"
    assert "Reset your support portal password" in notification.subject

    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_each_reset_request_is_its_own_email(client):
    """Two requests are two outbox rows: the key is unique per request."""
    factories.CustomerFactory(email="twice@example.com")
    client.post(reverse("password_reset"), {"email": "twice@example.com"})
    client.post(reverse("password_reset"), {"email": "twice@example.com"})
    assert Notification.objects.filter(key__contains="password_reset").count() == 2


def test_unknown_address_gets_the_same_page_and_no_email(client):
    """Asking for an address with no account reveals nothing and sends nothing."""
    response = client.post(reverse("password_reset"), {"email": "ghost@example.com"})
    assert response.status_code == 302
    assert not Notification.objects.exists()


def test_password_change(client):
    """A signed-in user changes their password with the old one."""
    user = factories.CustomerFactory()
    client.force_login(user)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
