"""Password reset through the outbox, and password change."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-77"


@pytest.fixture
def ask_reset(client, eager_tasks, django_capture_on_commit_callbacks):
    """Ask for a reset, then let the background work run as it does after commit."""

    def ask(email):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": email})

    return ask


def test_password_reset_email_is_recorded_in_the_outbox(client, ask_reset, link_in_outbox):
    """The reset email is an outbox row with the reset link; the link sets a new password."""
    user = factories.CustomerFactory(email="forgetful@example.com")
    response = ask_reset("Forgetful@example.com")
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


def test_each_reset_request_is_its_own_email(ask_reset):
    """Two requests are two outbox rows: the key is unique per request."""
    factories.CustomerFactory(email="twice@example.com")
    ask_reset("twice@example.com")
    ask_reset("twice@example.com")
    assert Notification.objects.filter(key__contains="password_reset").count() == 2


def test_reset_answers_alike_for_known_and_unknown_addresses(
    client, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    """A reset request looks nothing up and sends nothing while it runs: an address with an
    account and one without get the same status, redirect, body and done page, from the same
    database queries. After commit a task records the email in the outbox, and the outbox
    sweep delivers it to the owner only."""
    factories.CustomerFactory(email="owner@example.com")
    answers, background = {}, []
    for email in ("owner@example.com", "ghost@example.com"):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as callbacks,
        ):
            response = client.post(reverse("password_reset"), {"email": email})
        # Nothing rendered, recorded or handed to the mail server during the request.
        assert not Notification.objects.exists()
        assert mailoutbox == []
        done = client.get(response["Location"])
        answers[email] = (
            response.status_code,
            response["Location"],
            response.content,
            done.status_code,
            done.content,
            [query["sql"] for query in queries],
            len(callbacks),
        )
        background += callbacks
    assert answers["owner@example.com"] == answers["ghost@example.com"]
    assert answers["owner@example.com"][:2] == (302, reverse("password_reset_done"))

    for callback in background:  # the transaction committed: the task runs
        callback()
    assert mailoutbox == []  # recorded, not yet sent
    notifications_send_due()
    assert [message.to for message in mailoutbox] == [["owner@example.com"]]
    assert "Reset your support portal password" in mailoutbox[0].subject


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
