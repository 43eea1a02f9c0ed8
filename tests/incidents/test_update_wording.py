"""An update's email says where the incident stands (Statuspage's state and the impact) and
exactly why it was sent: a customer who never subscribed is told they are a customer, not that
they subscribed."""

import pytest

from incidents import services
from incidents.tasks import send_incident_updates
from maintenance.models import Subscription
from notifications.delivery import notifications_send_due
from notifications.models import Notification
from tests import factories
from tests.incidents.conftest import NOW
from tickets.services import customer_add_service

pytestmark = pytest.mark.django_db


def test_customers_and_subscribers_are_each_told_why(
    clock, open_incident, staff, service, mailoutbox
):
    customer = factories.CustomerFactory(email="customer@example.com")
    customer_add_service(customer=customer, service=service)
    Notification.objects.all().delete()  # the access-granted email: not this test's business
    Subscription.objects.create(service=service, email="fan@example.com", confirmed_at=NOW)
    incident = open_incident(title="Checkout fails", impact="partial_outage")
    services.incident_post_update(
        incident=incident, body="A fix is deployed.", public=True, by=staff, status="monitoring"
    )
    send_incident_updates()
    notifications_send_due()
    sent = {message.to[0]: message for message in mailoutbox}
    assert set(sent) == {"customer@example.com", "fan@example.com"}
    for message in sent.values():
        assert message.subject.startswith("Monitoring: ")
        assert "Monitoring" in message.body and "partial outage" in message.body
        html = message.alternatives[0][0]
        assert "Monitoring" in html and "partial outage" in html
    customer_text = sent["customer@example.com"].body
    assert f"you are a customer of {service.name}" in customer_text
    assert "subscribed" not in customer_text
    assert (
        f"you subscribed to the incident updates of {service.name}" in sent["fan@example.com"].body
    )
