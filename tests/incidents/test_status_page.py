"""/status/ shows open incidents with their public updates and published post-mortems; never
internal notes, never unpublished post-mortems; user text escaped."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from incidents import services
from incidents.selectors import status_incidents
from tests import factories
from tests.incidents.conftest import NOW

pytestmark = pytest.mark.django_db

STATUS = reverse("status")
H = timedelta(hours=1)


def page(client):
    response = client.get(STATUS)
    assert response.status_code == 200
    return response.content.decode()


def test_public_updates_show_newest_first_and_internal_notes_never(
    clock, client, open_incident, staff
):
    incident = open_incident(title="Checkout <fails>")
    services.incident_post_update(incident=incident, body="First: looking", public=True, by=staff)
    clock.move_to(NOW + H)
    services.incident_post_update(
        incident=incident, body="Internal: the DBA broke it", public=False, by=staff
    )
    clock.move_to(NOW + 2 * H)
    services.incident_post_update(
        incident=incident, body="Second: <b>rolled back</b>", public=True, by=staff
    )
    html = page(client)
    assert escape("Checkout <fails>") in html and "Checkout <fails>" not in html
    assert "Internal: the DBA broke it" not in html
    second = html.index(escape("Second: <b>rolled back</b>"))
    assert "<b>rolled back</b>" not in html
    assert second < html.index("First: looking")
    assert f'data-incident="{incident.pk}"' in html
    assert "Major outage" in html and "Investigating" in html


def test_no_incident_says_so(clock, client, service):
    assert "No open incidents." in page(client)


def test_resolved_incidents_stay_a_day_then_leave(clock, client, open_incident, staff):
    incident = open_incident(title="Search down")
    services.incident_post_update(incident=incident, body="All clear", public=True, by=staff)
    services.incident_resolve(incident=incident, by=staff)
    html = page(client)
    assert "Search down" in html and "Resolved" in html and "All clear" in html
    clock.move_to(NOW + 25 * H)
    html = page(client)
    assert "Search down" not in html and "No open incidents." in html


def test_only_published_postmortems_show(clock, client, open_incident, staff):
    shown, draft = open_incident(title="Shown one"), open_incident(title="Draft one")
    for incident in (shown, draft):
        services.incident_resolve(incident=incident, by=staff)
        services.postmortem_save(
            incident=incident,
            by=staff,
            summary=f"Summary of {incident.title} <script>",
            root_cause="Root <cause>",
            timeline="10:00 alert\n10:30 fix",
        )
        services.postmortem_complete(incident=incident, by=staff)
    services.postmortem_action_add(
        postmortem=shown.postmortem, by=staff, description="Add <alerting>", owner=staff
    )
    services.postmortem_publish(incident=shown, by=staff)
    clock.move_to(NOW + 30 * H)  # both incidents left the open list
    html = page(client)
    assert escape("Summary of Shown one <script>") in html
    assert "Summary of Draft one" not in html
    assert escape("Root <cause>") in html and escape("Add <alerting>") in html
    assert "10:00 alert<br>10:30 fix" in html
    assert staff.email not in html  # owners are internal
    services.postmortem_unpublish(incident=shown, by=staff)
    assert "Summary of Shown one" not in page(client)


def test_queries_do_not_grow_with_incidents_updates_and_postmortems(
    clock, client, open_incident, staff
):
    """One service with one incident and one post-mortem, or six services with many: the
    same number of queries."""

    def with_everything(service=None, updates=1):
        if service is None:
            incident = open_incident()
        else:
            severity = factories.PriorityFactory(service=service, code="P0")
            incident = open_incident(service=service, severity=severity)
        for k in range(updates):
            services.incident_post_update(incident=incident, body=f"u{k}", public=True, by=staff)
        services.incident_post_update(incident=incident, body="note", public=False, by=staff)
        done = open_incident(
            title="Past outage", service=incident.service, severity=incident.severity
        )
        services.incident_resolve(incident=done, by=staff)
        services.postmortem_save(incident=done, by=staff, summary="S", root_cause="R")
        services.postmortem_complete(incident=done, by=staff)
        services.postmortem_action_add(postmortem=done.postmortem, by=staff, description="Do")
        services.postmortem_publish(incident=done, by=staff)

    with_everything()
    page(client)
    cache.clear()  # measure the page with its uptime bars computed, both times
    with CaptureQueriesContext(connection) as few:
        page(client)
    for _ in range(5):
        with_everything(factories.ServiceFactory(), updates=3)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        html = page(client)
    assert html.count("data-postmortem=") == 6
    assert html.count("data-incidents-service=") == 6
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.postgres
def test_the_pages_incident_query_reads_through_indexes(clock, open_incident, staff):
    """Open or resolved in the last day: the planner (told to avoid a sequential scan, as it
    would on a large table) combines the open-incidents index with the one on resolved_at, so
    the page does not read every incident ever recorded."""
    services.incident_resolve(incident=open_incident(), by=staff)
    open_incident()
    with CaptureQueriesContext(connection) as queries:
        status_incidents(now=NOW)
    select = queries.captured_queries[0]["sql"]
    assert "resolved_at" in select
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {select}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "incident_open" in plan and "incident_resolved" in plan, plan


def test_times_are_shown_in_utc_as_labelled_whatever_the_sites_zone(
    clock, client, open_incident, staff, settings
):
    settings.TIME_ZONE = "America/New_York"
    incident = open_incident(title="Queue stuck")
    services.incident_post_update(incident=incident, body="Looking", public=True, by=staff)
    html = page(client)
    # NOW is Wednesday 6 January 2027, 12:00 UTC (07:00 in New York).
    assert "since Wed 6 Jan 2027, 12:00 UTC" in html
    assert "Wed 6 Jan, 12:00 UTC" in html


def test_a_published_postmortem_of_a_reopened_incident_says_it_is_not_resolved(
    clock, client, open_incident, staff, superuser
):
    incident = open_incident(title="Flapping")
    services.incident_resolve(incident=incident, by=staff)
    services.postmortem_save(incident=incident, by=staff, summary="S", root_cause="R")
    services.postmortem_complete(incident=incident, by=staff)
    services.postmortem_publish(incident=incident, by=staff)
    clock.move_to(NOW + H)
    services.incident_advance(incident=incident, step="triage", by=superuser)
    html = page(client)
    assert "reopened: not resolved yet" in html
    assert "to  UTC" not in html
