"""The incident services record the incident's pages themselves, once each, in their own
transaction: opened by hand or by an alert, a public update, resolved by any path (the admin,
an action, an alert's auto-resolve), with one PagerDuty ``dedup_key`` per incident."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents.models import Incident
from incidents.services import incident_open, incident_post_update, incident_resolve
from paging.models import Delivery, Destination
from paging.services import deliveries_send_due
from tests import factories
from tests.alerts import conftest as alerts_conftest
from tests.alerts.conftest import SECRETS, alertmanager, post

# The alerts tests' plan (hooks and a PagerDuty destination for opened/resolved) as a fixture.
watched = alerts_conftest.watched

CHANGELIST = reverse("admin:incidents_incident_changelist")


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.mark.django_db(transaction=True)
def test_hand_resolving_an_alerts_incident_in_admin_closes_its_page(
    client, watched, receiver, superuser
):
    """An incident opened by an alert of a hook without auto_resolve, resolved by a staff
    member with the admin's "Resolve now": PagerDuty receives the resolve with the trigger's
    dedup_key, so the page closes."""
    post(client, "prom-manual", alertmanager(), token=SECRETS["TEST_ALERTS_PROM"])
    deliveries_send_due()
    incident = Incident.objects.get()
    client.force_login(superuser)
    response = client.post(CHANGELIST, {"action": "resolve_now", "_selected_action": [incident.pk]})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    deliveries_send_due()
    sent = [request.json() for request in receiver.requests]
    assert [(event["event_action"], event["dedup_key"]) for event in sent] == [
        ("trigger", f"incident-{incident.pk}"),
        ("resolve", f"incident-{incident.pk}"),
    ]
    assert sent[1]["routing_key"] == SECRETS["TEST_ALERTS_PD"]
    assert sorted(Delivery.objects.values_list("event", "status")) == [
        ("incident.opened", Delivery.Status.SENT),
        ("incident.resolved", Delivery.Status.SENT),
    ]


@pytest.mark.django_db(transaction=True)
def test_incident_opened_by_hand_pages_a_matching_destination(watched, receiver, superuser):
    """Opening an incident by hand (a draft: pages go to staff, not the public) records
    ``incident.opened`` for the destination that wants it, and the receiver gets a trigger."""
    incident = incident_open(service=watched, severity="P0", title="Database down", by=superuser)
    assert list(Delivery.objects.values_list("event", "key")) == [
        (
            "incident.opened",
            f"incident:{incident.pk}:opened:{Delivery.objects.get().destination_id}",
        )
    ]
    deliveries_send_due()
    (sent,) = [request.json() for request in receiver.requests]
    assert (sent["event_action"], sent["dedup_key"]) == ("trigger", f"incident-{incident.pk}")
    assert sent["payload"]["severity"] == "critical"
    assert "Database down" in sent["payload"]["summary"]


@pytest.mark.django_db
def test_resolving_twice_records_one_page(watched, superuser):
    """A second resolve (refused, or a move to the resolving step again) records no second
    resolve page: one per incident."""
    incident = incident_open(service=watched, severity="P1", title="Slow", by=superuser)
    incident_resolve(incident=incident, by=superuser)
    with pytest.raises(ValidationError):
        incident_resolve(incident=incident, by=superuser)
    assert Delivery.objects.filter(event="incident.resolved").count() == 1
    assert Delivery.objects.get(event="incident.resolved").payload["action"] == "resolve"


@pytest.mark.django_db
def test_alert_auto_resolve_records_each_event_once(client, watched):
    """An alert's incident opened and auto-resolved: one opened and one resolved page, no
    duplicate from the alerts code."""
    token = SECRETS["TEST_ALERTS_PROM"]
    post(client, "prom", alertmanager(), token=token)
    post(client, "prom", alertmanager("resolved"), token=token)
    assert sorted(Delivery.objects.values_list("event", flat=True)) == [
        "incident.opened",
        "incident.resolved",
    ]


@pytest.mark.django_db
def test_public_update_pages_once_and_internal_note_not(watched, superuser):
    """A public update records ``incident.updated`` for a destination that wants it (one per
    update); an internal note records nothing."""
    Destination.objects.create(
        service=watched,
        name="updates",
        kind="pagerduty",
        secret_env="TEST_ALERTS_PD",
        events=["incident.updated"],
    )
    incident = incident_open(service=watched, severity="P1", title="Slow", by=superuser)
    incident_post_update(incident=incident, body="Internal: looking", public=False, by=superuser)
    update = incident_post_update(
        incident=incident, body="We are investigating.", public=True, by=superuser
    )
    updated = Delivery.objects.filter(event="incident.updated")
    assert [delivery.key.rsplit(":", 1)[0] for delivery in updated] == [
        f"incident:{incident.pk}:update:{update.pk}"
    ]
    assert updated.get().payload["action"] == "trigger"
