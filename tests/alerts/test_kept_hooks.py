"""A hook already served is kept by the process (``alerts.views``) and repeats of a group with
an open incident take one statement (``alerts.services``). A plan reloaded under them changes
what the next request sees at once: a retired hook answers 404, a hook given another secret
variable refuses the old secret, and an incident resolved by staff while its alerts still fire
is not fed: the next firing alert opens a new one."""

import pytest

from alerts.models import Alert, AlertGroup
from alerts.services import alerts_actor
from incidents.models import Incident
from incidents.services import incident_resolve
from tests.alerts.conftest import PLAN, SECRETS, alertmanager, post
from tests.paging.conftest import load_plan_text

PROM = SECRETS["TEST_ALERTS_PROM"]
GRAFANA = SECRETS["TEST_ALERTS_GRAFANA"]
PROM_ENTRY = PLAN[PLAN.index("  - name: prom\n") : PLAN.index("  - name: prom-manual")]


def plan_with_prom(old, new):
    """The plan with the prom hook's entry changed (``old`` replaced by ``new``)."""
    assert old in PROM_ENTRY
    return PLAN.replace(PROM_ENTRY, PROM_ENTRY.replace(old, new))


def served_twice(client):
    """The prom hook served (its group's incident opened) and then a repeat: the one that keeps
    the hook and takes the one-statement path."""
    for _ in range(2):
        assert post(client, "prom", alertmanager(), token=PROM).status_code == 200
    assert Alert.objects.get(hook__name="prom").count == 2


@pytest.mark.django_db
def test_another_secret_variable_refuses_the_old_secret_at_once(client, watched):
    served_twice(client)
    load_plan_text(plan_with_prom("TEST_ALERTS_PROM", "TEST_ALERTS_GRAFANA"))
    assert post(client, "prom", alertmanager(), token=PROM).status_code == 401
    assert Alert.objects.get(hook__name="prom").count == 2
    assert AlertGroup.objects.get(hook__name="prom").count == 2
    assert post(client, "prom", alertmanager(), token=GRAFANA).status_code == 200
    assert Alert.objects.get(hook__name="prom").count == 3


@pytest.mark.django_db
def test_another_source_reads_the_delivery_as_that_source(client, watched):
    served_twice(client)
    load_plan_text(plan_with_prom("source: alertmanager", "source: generic"))
    # A bearer token is not how a generic hook authenticates.
    assert post(client, "prom", alertmanager(), token=PROM).status_code == 401
    assert Alert.objects.get(hook__name="prom").count == 2


@pytest.mark.django_db
def test_a_retired_hook_answers_404_at_once(client, watched):
    served_twice(client)
    load_plan_text(PLAN.replace(PROM_ENTRY, ""))
    assert post(client, "prom", alertmanager(), token=PROM).status_code == 404
    assert Alert.objects.get(hook__name="prom").count == 2
    load_plan_text(PLAN)
    assert post(client, "prom", alertmanager(), token=PROM).status_code == 200
    assert Alert.objects.get(hook__name="prom").count == 3


@pytest.mark.django_db
def test_an_incident_staff_resolved_while_its_alerts_fire_gets_no_more(client, watched):
    served_twice(client)
    first = Incident.objects.get()
    incident_resolve(incident=first, by=alerts_actor(), note="Fixed by hand.")
    response = post(client, "prom", alertmanager(), token=PROM)
    assert response.status_code == 200
    second = Incident.objects.exclude(pk=first.pk).get()
    assert response.json()["incident"] == second.number
    alert, group = Alert.objects.get(), AlertGroup.objects.get()
    assert alert.incident == second and group.incident == second
    assert alert.count == 3 and group.count == 1  # the group counts into its current incident


@pytest.mark.django_db
def test_repeats_answer_their_incident_and_count_like_the_first(client, watched):
    """The one-statement path records what the transaction path would: every field of a
    repeated alert and of its group."""
    first = post(client, "prom", alertmanager(fingerprints=("a", "b")), token=PROM)
    payload = alertmanager(fingerprints=("b", "c"), severity="warning")
    payload["alerts"][0]["annotations"]["summary"] = "b again"
    payload["truncatedAlerts"] = 3
    again = post(client, "prom", payload, token=PROM)
    incident = Incident.objects.get()
    assert first.json() == {"status": "accepted", "incident": incident.number, "alerts": 2}
    assert again.json() == {"status": "accepted", "incident": incident.number, "alerts": 2}
    alerts = {alert.identity: alert for alert in Alert.objects.all()}
    a, b, c = alerts["a"], alerts["b"], alerts["c"]
    assert (a.count, b.count, c.count) == (1, 2, 1)
    assert b.title == "b again" and b.severity_label == "warning"
    assert b.payload["annotations"]["summary"] == "b again"
    assert b.first_seen_at == a.first_seen_at < b.last_seen_at == c.first_seen_at
    assert {alert.status for alert in alerts.values()} == {Alert.Status.FIRING}
    assert {alert.incident_id for alert in alerts.values()} == {incident.pk}
    group = AlertGroup.objects.get()
    assert (group.count, group.truncated_alerts, group.all_resolved_at) == (4, 3, None)
    assert group.last_seen_at == b.last_seen_at


@pytest.mark.django_db
def test_a_new_incident_takes_the_severity_the_reloaded_plan_maps(client, watched):
    """The plan's severity map changed after the hook was kept: the group's next incident
    (after every alert resolved it) is opened with the new map, not the copy's."""
    served_twice(client)
    assert Incident.objects.get().severity.code == "P0"
    load_plan_text(plan_with_prom("critical: P0", "critical: P2"))
    assert post(client, "prom", alertmanager("resolved"), token=PROM).status_code == 200
    assert post(client, "prom", alertmanager(), token=PROM).status_code == 200
    first, second = Incident.objects.order_by("id")
    assert first.resolved_at is not None
    assert second.severity.code == "P2"
