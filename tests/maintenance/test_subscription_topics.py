"""What a subscriber hears: incidents, maintenance or both, chosen by customers on the portal,
by visitors on the status page and by anyone from their emails' manage link; the senders'
selectors honour it at a constant number of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse

from maintenance import selectors
from maintenance.emails import unsubscribe_token
from maintenance.models import Subscription
from maintenance.notices import notices_send_due
from maintenance.subscriptions import subscription_confirm
from notifications.models import Notification
from tests import factories
from tests.maintenance.conftest import SUNDAY, subscribe_customers
from tickets.services import customer_add_service

pytestmark = pytest.mark.django_db


def addresses(service, topic):
    rows = selectors.subscribers_for_notice(service_id=service.pk, after=0, limit=1000, topic=topic)
    return sorted(address for _, address, _, _ in rows)


def test_a_customer_chooses_per_service_on_the_subscriptions_page(client, service):
    """Each of the customer's services is listed with both boxes ticked (on by default);
    unticking maintenance keeps incident updates; unticking both stops the subscription."""
    other = factories.ServiceFactory(name="Zeta mail")
    customer = factories.CustomerFactory(email="ada@example.com")
    customer_add_service(customer=customer, service=service)
    customer_add_service(customer=customer, service=other)
    client.force_login(customer)

    page = client.get(reverse("maintenance:subscriptions")).content.decode()
    assert page.count(" checked") == 4
    assert service.name in page and other.name in page

    response = client.post(
        reverse("maintenance:subscriptions"), {f"{service.slug}-incidents": "on"}
    )
    assert response.status_code == 302
    assert addresses(service, "incidents") == ["ada@example.com"]
    assert addresses(service, "maintenance") == []
    # Nothing ticked for the other service: unsubscribed from it.
    mine = Subscription.objects.get(service=other, user=customer)
    assert mine.unsubscribed_at is not None
    assert addresses(other, "incidents") == addresses(other, "maintenance") == []

    page = client.get(reverse("maintenance:subscriptions")).content.decode()
    assert page.count(" checked") == 1

    # Ticking again turns it back on.
    client.post(
        reverse("maintenance:subscriptions"),
        {f"{other.slug}-maintenance": "on", f"{other.slug}-incidents": "on"},
    )
    assert addresses(other, "maintenance") == ["ada@example.com"]


def test_the_subscriptions_page_needs_a_login(client):
    response = client.get(reverse("maintenance:subscriptions"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_visitor_chooses_what_to_hear_on_the_status_page(client, service):
    """The status page's form offers incidents, maintenance or both; the choice is kept with
    the pending subscription and holds once it is confirmed."""
    client.post(
        reverse("maintenance:subscribe"),
        {"email": "ops@example.com", "service": service.slug, "hear": "incidents"},
    )
    subscription = Subscription.objects.get(email="ops@example.com")
    assert (subscription.incidents, subscription.maintenance) == (True, False)
    confirmation = Notification.objects.get(to="ops@example.com")
    assert f"receive the incident updates of {service.name}" in confirmation.body_text
    subscription_confirm(token=_confirm_token(subscription))
    assert addresses(service, "incidents") == ["ops@example.com"]
    assert addresses(service, "maintenance") == []
    # The form says so.
    page = client.get(reverse("status")).content.decode()
    assert "Incidents only" in page and "Maintenance only" in page


def _confirm_token(subscription):
    from maintenance.emails import confirm_token

    return confirm_token(subscription)


def test_the_manage_link_changes_the_choice_and_one_click_still_unsubscribes(client, service):
    """The emails' link (signed token, no login) shows the choice; saving it changes what the
    address hears; a bare POST (RFC 8058 one-click) still unsubscribes from everything."""
    (subscription,) = subscribe_customers(service, 1)
    url = reverse("maintenance:unsubscribe", args=[unsubscribe_token(subscription.token)])
    page = client.get(url).content.decode()
    assert "Maintenance notices" in page and "Incident updates" in page

    response = client.post(url, {"choose": "1", "maintenance": "on"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.maintenance, subscription.incidents) == (True, False)
    assert subscription.active

    client.post(url, {"List-Unsubscribe": "One-Click"})
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None


def test_maintenance_notices_skip_who_wants_only_incidents(clock, weekly, service):
    """The 48 h notice reaches the subscribers who want maintenance, not the others."""
    wanting, incidents_only = subscribe_customers(service, 2)
    Subscription.objects.filter(pk=incidents_only.pk).update(maintenance=False)
    clock.move_to(SUNDAY - timedelta(hours=48))
    assert notices_send_due() == 1
    assert list(
        Notification.objects.filter(key__startswith="maint:").values_list("to", flat=True)
    ) == [wanting.email]


def test_the_selector_costs_one_query_whatever_the_topic_or_the_subscribers(
    service, django_assert_num_queries
):
    subscribe_customers(service, 30)
    Subscription.objects.filter(pk__in=Subscription.objects.values("pk")[:10]).update(
        incidents=False
    )
    for topic, expected in (("maintenance", 30), ("incidents", 20)):
        with django_assert_num_queries(1):
            rows = selectors.subscribers_for_notice(
                service_id=service.pk, after=0, limit=100, topic=topic
            )
        assert len(rows) == expected
    with pytest.raises(ValueError):
        selectors.subscribers_for_notice(service_id=service.pk, after=0, limit=1, topic="x")


def test_the_profile_and_the_dashboard_link_the_email_notices_page(client, service):
    customer = factories.CustomerFactory()
    customer_add_service(customer=customer, service=service)
    client.force_login(customer)
    link = f'href="{reverse("maintenance:subscriptions")}"'
    assert link in client.get(reverse("profile")).content.decode()
    assert link in client.get(reverse("home")).content.decode()
