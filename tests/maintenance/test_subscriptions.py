"""Subscriptions: double opt-in from the status page, signed one-click unsubscribe."""

import re

import pytest
from django.urls import reverse

from maintenance.emails import unsubscribe_token
from maintenance.models import Subscription
from notifications.delivery import notifications_send_due

pytestmark = pytest.mark.django_db


def link(body, name):
    match = re.search(r"(http://testserver/maintenance/[^\s\"]+)", body)
    assert match, body
    return match[1].replace("http://testserver", "")


def test_status_page_subscription_needs_the_emailed_confirmation(
    client, service, mailoutbox, django_capture_on_commit_callbacks
):
    """Double opt-in: the form records an unconfirmed subscription and emails a signed link;
    following it (a GET from the email) confirms."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("maintenance:subscribe"),
            {"email": "Ops@Example.com", "service": service.slug},
        )
    assert response.status_code == 302
    subscription = Subscription.objects.get(service=service, email="ops@example.com")
    assert subscription.confirmed_at is None
    notifications_send_due()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ops@example.com"]
    confirm = link(mailoutbox[0].body, "confirm")
    assert "/subscribe/confirm/" in confirm
    assert client.get(confirm).status_code == 200
    subscription.refresh_from_db()
    assert subscription.active


def test_asking_twice_the_same_day_sends_one_confirmation(client, service, mailoutbox):
    """The form cannot be used to flood an inbox: one confirmation per address a day."""
    for _ in range(3):
        client.post(
            reverse("maintenance:subscribe"), {"email": "a@example.com", "service": service.slug}
        )
    notifications_send_due()
    assert len(mailoutbox) == 1


def test_a_tampered_confirmation_link_is_refused(client, service):
    """A forged or edited token changes nothing and says the link is not valid."""
    subscription = Subscription.objects.create(service=service, email="x@example.com")
    response = client.get(
        reverse("maintenance:subscription_confirm", args=[f"{subscription.token}:forged:sig"])
    )
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None


def test_unsubscribe_link_shows_a_button_and_the_post_unsubscribes_without_login(client, service):
    """GET (what mail scanners do) changes nothing; POST unsubscribes; no login needed."""
    subscription = Subscription.objects.create(
        service=service, email="x@example.com", confirmed_at="2027-01-01T00:00Z"
    )
    url = reverse("maintenance:unsubscribe", args=[unsubscribe_token(subscription.token)])
    response = client.get(url)
    assert response.status_code == 200 and b"Unsubscribe" in response.content
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None
    assert client.post(url).status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None


def test_rfc8058_one_click_post_needs_no_csrf_token(service):
    """Mail clients POST "List-Unsubscribe=One-Click" with no cookie or CSRF token."""
    from django.test import Client

    subscription = Subscription.objects.create(
        service=service, email="x@example.com", confirmed_at="2027-01-01T00:00Z"
    )
    url = reverse("maintenance:unsubscribe", args=[unsubscribe_token(subscription.token)])
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None


def test_a_tampered_unsubscribe_token_is_an_error(client, service):
    """Changing one character of the signed token: 400, nothing unsubscribed."""
    subscription = Subscription.objects.create(
        service=service, email="x@example.com", confirmed_at="2027-01-01T00:00Z"
    )
    signed = unsubscribe_token(subscription.token)
    tampered = signed[:-1] + ("A" if signed[-1] != "A" else "B")
    response = client.post(reverse("maintenance:unsubscribe", args=[tampered]))
    assert response.status_code == 400
    other = Subscription.objects.create(service=service, email="y@example.com")
    forged = unsubscribe_token(subscription.token).replace(subscription.token, other.token)
    assert client.post(reverse("maintenance:unsubscribe", args=[forged])).status_code == 400
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None


def test_a_customer_who_unsubscribed_stays_unsubscribed_when_added_again(service, customer_of):
    """customer_add_service subscribes by default but does not undo an unsubscribe."""
    from maintenance.subscriptions import subscription_unsubscribe
    from tickets.services import customer_add_service

    user = customer_of(service)
    subscription = Subscription.objects.get(user=user)
    subscription_unsubscribe(token=unsubscribe_token(subscription.token))
    customer_add_service(customer=user, service=service)
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
