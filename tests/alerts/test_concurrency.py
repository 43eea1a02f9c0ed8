"""The same alert delivered twice at the same moment (an Alertmanager retry racing the first
delivery, two Alertmanager replicas) makes one group, one alert and one incident, on
PostgreSQL where the two requests really run at once."""

import pytest
from django.test import Client

from alerts.models import Alert, AlertGroup
from incidents.models import Incident
from paging.models import Delivery
from tests.alerts.conftest import SECRETS, alertmanager, post
from tests.concurrency import run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.mark.parametrize("deliveries", [2, 4])
def test_simultaneous_deliveries_of_one_alert_open_one_incident(watched, deliveries):
    payload = alertmanager()

    def deliver():
        return post(Client(), "prom", payload, token=SECRETS["TEST_ALERTS_PROM"]).status_code

    assert run_together(*[deliver] * deliveries) == [200] * deliveries
    assert Incident.objects.count() == 1
    assert AlertGroup.objects.get().count == deliveries
    assert Alert.objects.get().count == deliveries
    assert Delivery.objects.filter(event="incident.opened").count() == 1
