"""An incident opened and auto-resolved by alerts pages PagerDuty: a trigger, then a resolve
with the same dedup_key, received by a real HTTP server on loopback."""

import pytest

from incidents.models import Incident
from paging.models import Delivery
from paging.services import deliveries_send_due
from tests.alerts.conftest import SECRETS, alertmanager, post


@pytest.mark.django_db(transaction=True)
def test_alert_incident_pages_trigger_then_resolve_with_one_dedup_key(client, watched, receiver):
    token = SECRETS["TEST_ALERTS_PROM"]
    post(client, "prom", alertmanager(), token=token)
    deliveries_send_due()
    post(client, "prom", alertmanager("resolved"), token=token)
    deliveries_send_due()
    incident = Incident.objects.get()
    sent = [request.json() for request in receiver.requests]
    assert [(event["event_action"], event["dedup_key"]) for event in sent] == [
        ("trigger", f"incident-{incident.pk}"),
        ("resolve", f"incident-{incident.pk}"),
    ]
    assert sent[0]["routing_key"] == SECRETS["TEST_ALERTS_PD"]
    assert sent[0]["payload"]["severity"] == "critical"  # P0, the plan's most urgent
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
