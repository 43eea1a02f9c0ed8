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


@pytest.mark.parametrize("deliveries", [2, 4])
def test_simultaneous_first_deliveries_of_one_group_open_one_incident(watched, deliveries):
    """A group's first deliveries, each with another alert, at the same moment: one incident,
    every alert in it, one page."""

    def deliver(index):
        payload = alertmanager(fingerprints=(f"fp-{index}",))
        return post(Client(), "prom", payload, token=SECRETS["TEST_ALERTS_PROM"]).status_code

    jobs = [lambda index=index: deliver(index) for index in range(deliveries)]
    assert run_together(*jobs) == [200] * deliveries
    incident = Incident.objects.get()
    group = AlertGroup.objects.get()
    assert group.incident == incident and group.count == deliveries
    assert sorted(Alert.objects.values_list("incident", flat=True)) == [incident.pk] * deliveries
    assert Delivery.objects.filter(event="incident.opened").count() == 1


def test_repeats_and_a_resolve_of_one_group_at_once_take_turns(watched):
    """Into a group with an open incident, at the same moment: new alerts firing (the
    one-statement path) and the first alert resolving (the transaction path). Whatever order
    they run in, one incident, every delivery counted, and the group not all resolved."""
    token = SECRETS["TEST_ALERTS_PROM"]
    assert post(Client(), "prom-manual", alertmanager(), token=token).status_code == 200

    def fire(index):
        payload = alertmanager(fingerprints=(f"new-{index}",))
        return post(Client(), "prom-manual", payload, token=token).status_code

    def resolve():
        return post(Client(), "prom-manual", alertmanager("resolved"), token=token).status_code

    jobs = [lambda index=index: fire(index) for index in range(5)] + [resolve]
    assert run_together(*jobs) == [200] * 6
    incident = Incident.objects.get()
    assert incident.resolved_at is None
    group = AlertGroup.objects.get()
    assert group.count == 6 and group.all_resolved_at is None
    assert Alert.objects.get(identity="fp-1").status == Alert.Status.RESOLVED
    firing = Alert.objects.filter(status=Alert.Status.FIRING, incident=incident)
    assert firing.count() == 5
