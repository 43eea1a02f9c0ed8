"""Subscription links: a confirm link confirms only the state it was sent for, and no admin
page shows the token that makes the links work."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from maintenance import emails
from maintenance.models import Subscription
from maintenance.notices import notices_send_due
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tests.maintenance.conftest import SUNDAY

pytestmark = pytest.mark.django_db


def ask_for_a_link(client, service, mailoutbox, email="ops@example.com"):
    """Subscribe on the status page; the confirm link of the email that arrives."""
    sent = len(mailoutbox)
    client.post(reverse("maintenance:subscribe"), {"email": email, "service": service.slug})
    notifications_send_due()
    assert len(mailoutbox) == sent + 1, "no new confirmation email"
    return re.search(r"http://testserver(/maintenance/subscribe/confirm/\S+/)", body(mailoutbox))[1]


def body(mailoutbox):
    return mailoutbox[-1].body


def one_click_unsubscribe(subscription):
    """What a mail client does with List-Unsubscribe-Post (RFC 8058): no cookie, no CSRF."""
    url = reverse("maintenance:unsubscribe", args=[emails.unsubscribe_token(subscription.token)])
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200


def test_an_unsubscribe_voids_the_confirm_links_sent_before_it(client, service, mailoutbox):
    """Confirm, unsubscribe (one click), then the old confirm link again: refused with a page
    saying the link is no longer valid, and the subscription stays off."""
    old_link = ask_for_a_link(client, service, mailoutbox)
    assert client.get(old_link).status_code == 200
    subscription = Subscription.objects.get(email="ops@example.com")
    assert subscription.active
    one_click_unsubscribe(subscription)

    response = client.get(old_link)

    assert response.status_code == 400
    assert "no longer valid" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None and not subscription.active


def test_asking_again_after_an_unsubscribe_sends_a_fresh_link_that_works(
    client, service, mailoutbox
):
    """The same day, a new request after an unsubscribe gets its own email and link; that link
    turns the notices back on, the old one still does not, and the next unsubscribe voids the
    new one as well."""
    old_link = ask_for_a_link(client, service, mailoutbox)
    client.get(old_link)
    subscription = Subscription.objects.get(email="ops@example.com")
    one_click_unsubscribe(subscription)

    new_link = ask_for_a_link(client, service, mailoutbox)

    assert new_link != old_link
    assert client.get(new_link).status_code == 200
    subscription.refresh_from_db()
    assert subscription.active
    assert client.get(old_link).status_code == 400
    one_click_unsubscribe(subscription)
    assert client.get(new_link).status_code == 400
    subscription.refresh_from_db()
    assert not subscription.active


def test_unsubscribing_in_the_admin_voids_earlier_confirm_links(client, service, mailoutbox):
    """Staff turning a subscription off by hand void its confirm links too."""
    link = ask_for_a_link(client, service, mailoutbox)
    client.get(link)
    subscription = Subscription.objects.get(email="ops@example.com")
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    staff = Client()
    staff.force_login(admin)
    change = reverse("admin:maintenance_subscription_change", args=[subscription.pk])
    response = staff.post(
        change,
        {
            "service": service.pk,
            "user": "",
            "email": subscription.email,
            "confirmed_at_0": "2027-01-01",
            "confirmed_at_1": "00:00:00",
            "unsubscribed_at_0": "2027-01-02",
            "unsubscribed_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.context["errors"]

    assert client.get(link).status_code == 400
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None


def test_a_link_sent_before_versions_existed_cannot_turn_notices_back_on(client, service):
    """Links signed over the bare token (before this release) count as the first version; a
    subscription that was off then starts one version later, so they no longer confirm it."""
    pending = Subscription.objects.create(service=service, email="new@example.com")
    off = Subscription.objects.create(
        service=service,
        email="off@example.com",
        confirmed_at="2027-01-01T00:00Z",
        unsubscribed_at="2027-01-02T00:00Z",
        confirm_version=1,  # what the migration gives a subscription that is off
    )
    signer = signing.TimestampSigner(salt="maintenance.confirm")

    def legacy(subscription):
        return reverse("maintenance:subscription_confirm", args=[signer.sign(subscription.token)])

    assert client.get(legacy(off)).status_code == 400
    assert client.get(legacy(pending)).status_code == 200
    off.refresh_from_db()
    pending.refresh_from_db()
    assert not off.active and pending.active


def secrets_of(subscription, confirm_link):
    """Every form of the subscription's credential a page could leak."""
    return {
        subscription.token,
        emails.unsubscribe_token(subscription.token),
        confirm_link.rstrip("/").rsplit("/", 1)[1],
    }


def test_no_admin_page_shows_a_subscription_token(client, clock, weekly, service, mailoutbox):
    """Superusers included: the outbox rows of a confirmation and of a notice (text, HTML and
    the List-Unsubscribe header) and the subscription list and page show the links with the
    token masked, and never the token."""
    link = ask_for_a_link(client, service, mailoutbox)
    client.get(link)
    subscription = Subscription.objects.get(email="ops@example.com")
    clock.move_to(SUNDAY - timedelta(hours=48))
    assert notices_send_due() == 1
    confirm_row = Notification.objects.get(key__startswith="maint:confirm:")
    notice_row = Notification.objects.get(to="ops@example.com", key__startswith="maint:notice:")
    _subject, text, html, headers = notice_row.content()
    assert subscription.token in headers["List-Unsubscribe"] and subscription.token in text
    assert subscription.token in html
    superuser = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)

    pages = {
        "outbox confirmation": reverse(
            "admin:notifications_notification_change", args=[confirm_row.pk]
        ),
        "outbox notice": reverse("admin:notifications_notification_change", args=[notice_row.pk]),
        "subscriptions": reverse("admin:maintenance_subscription_changelist"),
        "subscription": reverse("admin:maintenance_subscription_change", args=[subscription.pk]),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        content = response.content.decode()
        for secret in secrets_of(subscription, link):
            assert secret not in content, name
    notice_page = client.get(pages["outbox notice"]).content.decode()
    assert "/maintenance/unsubscribe/&lt;masked&gt;/" in notice_page
    assert "/maintenance/subscribe/confirm/&lt;masked&gt;/" in (
        client.get(pages["outbox confirmation"]).content.decode()
    )
    # Nor can the token be found by searching the subscription list for it.
    search = client.get(pages["subscriptions"], {"q": subscription.token})
    assert not search.context["cl"].result_list
