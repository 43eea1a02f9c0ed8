"""A service's state on /status/ and status.json: the worst of outage, degraded, maintenance."""

from datetime import timedelta

import pytest
from django.utils import timezone

from status.selectors import State, service_state
from tests import factories
from tests.incidents.factories import IncidentFactory
from tests.maintenance.conftest import make_policy, make_window

pytestmark = pytest.mark.django_db


class _Incident:
    def __init__(self, outage):
        self.outage = outage


@pytest.mark.parametrize(
    ("incidents", "maintenance", "state"),
    [
        ([], [], State.OPERATIONAL),
        ([], ["window"], State.MAINTENANCE),
        ([_Incident(outage=False)], ["window"], State.DEGRADED),
        ([_Incident(outage=False), _Incident(outage=True)], [], State.OUTAGE),
        ([_Incident(outage=True)], ["window"], State.OUTAGE),
    ],
)
def test_the_worst_thing_going_on_wins(incidents, maintenance, state):
    assert service_state(open_incidents=incidents, maintenance_now=maintenance) == state


def test_status_page_and_json_show_an_open_outage(client):
    """An open outage turns its service red on the page and in the JSON; a resolved one does
    not, and other services stay operational."""
    down = factories.ServiceFactory(slug="down", name="Down Service")
    fine = factories.ServiceFactory(slug="fine", name="Fine Service")
    incident = IncidentFactory(service=down, title="Database unreachable", outage=True)

    html = client.get("/status/").text
    assert 'data-service="down" data-state="outage"' in html
    assert 'data-service="fine" data-state="operational"' in html
    services = {s["slug"]: s for s in client.get("/status/status.json").json()["services"]}
    assert services["down"]["state"] == "outage"
    assert services["down"]["incidents"][0]["title"] == "Database unreachable"
    assert services["fine"] == {**services["fine"], "state": "operational", "incidents": []}

    incident.resolved_at = timezone.now()
    incident.save(update_fields=["resolved_at"])
    assert 'data-service="down" data-state="operational"' in client.get("/status/").text
    assert fine.pk  # both rows were listed


def test_a_degraded_incident_during_maintenance_shows_degraded(client, clock):
    """Maintenance in progress is expected; an incident on top of it is what visitors need."""
    service = factories.ServiceFactory(slug="svc", name="Service")
    make_policy(service)
    window = make_window(service)
    clock.move_to(window_start(window) + timedelta(minutes=30))
    assert 'data-state="maintenance"' in client.get("/status/").text
    IncidentFactory(service=service, outage=False, started_at=timezone.now())
    assert 'data-state="degraded"' in client.get("/status/").text


def window_start(window):
    from maintenance.selectors import window_occurrences

    now = timezone.now()
    occurrence = window_occurrences(service=window.service, start=now, end=now + timedelta(days=8))[
        0
    ]
    return occurrence.starts_at


def test_status_page_query_count_does_not_grow_with_incidents(
    client, django_assert_max_num_queries
):
    """Services, incidents and updates are read in a fixed number of queries."""
    service = factories.ServiceFactory(slug="svc", name="Service")
    IncidentFactory(service=service)
    client.get("/status/")
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the uptime bars computed both times
    with CaptureQueriesContext(connection) as one:
        client.get("/status/")
    for n in range(5):
        other = factories.ServiceFactory(slug=f"svc{n}", name=f"Service {n}")
        IncidentFactory.create_batch(3, service=other)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get("/status/")
    assert len(many) == len(one)


def test_uptime_bars_are_computed_at_most_once_a_minute(client, clock):
    """The bars are the page's dearest part: a second visit within the minute reuses them, and
    a minute later they show the new day's downtime."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    service = factories.ServiceFactory(slug="svc", name="Service")
    client.get("/status/")
    with CaptureQueriesContext(connection) as cached:
        client.get("/status/")
    IncidentFactory(service=service, started_at=timezone.now() - timedelta(hours=1))
    assert "100 % uptime" in client.get("/status/").text  # still the cached bars
    clock.shift(timedelta(seconds=61))
    with CaptureQueriesContext(connection) as fresh:
        html = client.get("/status/").text
    assert len(fresh) > len(cached)
    assert "100 % uptime" not in html
