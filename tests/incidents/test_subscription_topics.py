"""A public update reaches the subscribers who chose to hear of incidents, and nobody who
chose maintenance notices only."""

from datetime import UTC, datetime

import pytest

from incidents import services
from incidents.tasks import send_incident_updates
from maintenance.models import Subscription
from notifications.models import Notification
from tests import factories
from tickets.services import customer_add_service

pytestmark = pytest.mark.django_db

CONFIRMED = datetime(2026, 12, 1, tzinfo=UTC)


def test_only_those_who_want_incident_updates_get_them(clock, open_incident, staff, service):
    hears = factories.CustomerFactory(email="hears@example.com")
    maintenance_only = factories.CustomerFactory(email="maint@example.com")
    for customer in (hears, maintenance_only):
        customer_add_service(customer=customer, service=service)
    Subscription.objects.filter(user=maintenance_only).update(incidents=False)
    Subscription.objects.create(
        service=service, email="watcher@example.com", confirmed_at=CONFIRMED
    )
    Subscription.objects.create(
        service=service, email="calendar@example.com", confirmed_at=CONFIRMED, incidents=False
    )
    Notification.objects.all().delete()

    incident = open_incident(title="Checkout fails")
    update = services.incident_post_update(
        incident=incident, body="Rolling back.", public=True, by=staff
    )
    assert send_incident_updates() == 2
    sent = Notification.objects.filter(key__startswith=f"incident-update:{update.pk}:")
    assert sorted(sent.values_list("to", flat=True)) == [
        "hears@example.com",
        "watcher@example.com",
    ]
