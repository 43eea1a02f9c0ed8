"""Runbooks in the incident admin: staff choose the incident type (runbook) when opening an
incident, see each deadline it started with its due time and state, and mark one done with its
button (``incident_deadline_done``: its reminders stop). Only staff of the incident's service
can; a runbook of another service is neither offered nor accepted."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from incidents.models import Incident, IncidentDeadline, Runbook
from tests import factories
from tests.incidents.conftest import NOW

pytestmark = pytest.mark.django_db

ADD = reverse("admin:incidents_incident_add")
DETECTED = datetime(2027, 1, 6, 11, 30, tzinfo=UTC)


def change_url(incident):
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def done_url(deadline):
    return reverse(
        "admin:incidents_incident_deadline_done", args=[deadline.incident_id, deadline.pk]
    )


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def breach_runbook(service, **kwargs):
    return Runbook.objects.create(
        service=service,
        name=kwargs.pop("name", "data-breach"),
        title=kwargs.pop("title", "Data breach"),
        steps=["Contain", "Assess"],
        deadlines=[["Report to regulatory authorities", "72h"], ["Tell the customers", "96h"]],
        **kwargs,
    )


@pytest.fixture
def runbook(service):
    return breach_runbook(service)


@pytest.fixture
def elsewhere():
    """Another service with its own runbook, which the scoped member does not work."""
    other = factories.ServiceFactory()
    return breach_runbook(other, title="Elsewhere breach")


@pytest.fixture
def member(service):
    """A Tier 1 member limited to ``service``."""
    return factories.StaffFactory(tier=1, services=[service])


@pytest.fixture
def logged_in(clock, client, member):
    client.force_login(member)
    return client


def open_with(client, service, severity, member, runbook):
    return client.post(
        ADD,
        {
            "service": service.pk,
            "severity": severity.pk,
            "runbook": runbook.pk,
            "title": "Customer records exposed",
            "impact": "partial_outage",
            "started_at_0": "2027-01-06",
            "started_at_1": "11:30:00",
            "owner": member.pk,
        },
    )


def test_the_add_page_offers_the_members_runbooks_and_opening_starts_the_deadlines(
    logged_in, service, severity, policy, member, runbook, elsewhere
):
    """The incident type is chosen on the add page (only the member's services' runbooks are
    offered); opening it starts each deadline from detection."""
    page = logged_in.get(ADD).content.decode()
    assert "Data breach (data-breach)" in page
    assert "Elsewhere breach" not in page

    response = open_with(logged_in, service, severity, member, runbook)
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get()
    assert incident.runbook == runbook
    assert sorted(incident.deadlines.values_list("name", "due_at")) == [
        ("Report to regulatory authorities", DETECTED + timedelta(hours=72)),
        ("Tell the customers", DETECTED + timedelta(hours=96)),
    ]


def test_another_services_runbook_is_refused_and_nothing_opens(
    client, clock, service, severity, policy, runbook, elsewhere
):
    """Even a member of every service cannot open an incident with another service's runbook:
    the page says why and nothing is saved."""
    everyone = factories.StaffFactory(tier=1)
    client.force_login(everyone)
    response = open_with(client, service, severity, everyone, elsewhere)
    assert response.status_code == 200
    assert f"Choose one of {service.name}" in response.content.decode()
    assert not Incident.objects.exists() and not IncidentDeadline.objects.exists()


def test_the_incident_page_shows_each_deadline_and_its_done_button_stops_the_reminders(
    logged_in, clock, service, severity, policy, member, runbook
):
    """Each deadline with its due time (UTC) and state; "Done" marks it done by the member,
    clears its reminder and leaves the other deadline open."""
    open_with(logged_in, service, severity, member, runbook)
    incident = Incident.objects.get()
    report, tell = incident.deadlines.order_by("due_at")
    assert report.reminder_at is not None

    page = logged_in.get(change_url(incident)).content.decode()
    assert "Report to regulatory authorities" in page
    assert "2027-01-09 11:30" in page  # 72 h after detection, in UTC
    assert "2027-01-10 11:30" in page
    assert f'formaction="{done_url(report)}"' in page
    assert f'formaction="{done_url(tell)}"' in page

    clock.move_to(NOW + timedelta(hours=1))
    response = logged_in.post(done_url(report), follow=True)
    assert response.redirect_chain[-1][0] == change_url(incident)
    assert "Report to regulatory authorities: marked done; its reminders stop." in messages_of(
        response
    )
    report.refresh_from_db()
    tell.refresh_from_db()
    assert report.done_at == NOW + timedelta(hours=1) and report.done_by == member
    assert report.reminder_at is None
    assert tell.done_at is None and tell.reminder_at is not None
    page = response.content.decode()
    assert "done 2027-01-06 13:00 UTC by" in page
    assert f'formaction="{done_url(report)}"' not in page
    assert f'formaction="{done_url(tell)}"' in page


def test_only_staff_of_the_service_mark_a_deadline_done_and_only_by_post(
    client, clock, service, severity, policy, member, runbook
):
    """A member limited to another service gets 404; a customer is sent to the login page;
    a GET changes nothing (405)."""
    client.force_login(member)
    open_with(client, service, severity, member, runbook)
    deadline = IncidentDeadline.objects.order_by("due_at").first()

    assert client.get(done_url(deadline)).status_code == 405

    outsider = factories.StaffFactory(tier=3, services=[factories.ServiceFactory()])
    client.force_login(outsider)
    assert client.post(done_url(deadline)).status_code == 404
    assert client.get(change_url(deadline.incident)).status_code == 302  # not theirs: no page

    client.force_login(factories.CustomerFactory(services=[service]))
    response = client.post(done_url(deadline))
    assert response.status_code == 302 and "/login/" in response["Location"]

    deadline.refresh_from_db()
    assert deadline.done_at is None and deadline.reminder_at is not None
