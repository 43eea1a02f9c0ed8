"""Staff open and work incidents and post-mortems in admin; every write goes through services."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from incidents import services
from incidents.models import Incident, IncidentStepRecord, IncidentUpdate, Postmortem
from incidents.tasks import send_incident_updates
from maintenance.models import Subscription
from notifications.models import Notification
from tests import factories
from tests.incidents.admin_forms import page_data
from tests.incidents.conftest import NOW
from tests.incidents.factories import IncidentFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:incidents_incident_changelist")
ADD = reverse("admin:incidents_incident_add")


def change_url(incident):
    return reverse("admin:incidents_incident_change", args=[incident.pk])


def listed(response):
    return {incident.pk for incident in response.context["cl"].result_list}


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def logged_in(clock, client, staff):
    # Logged in at the pinned time: a session started before the clock moved would expire.
    client.force_login(staff)
    return client


# --- changelist ------------------------------------------------------------------------------


def test_changelist_query_count_does_not_grow_with_incidents(logged_in, service, severity, policy):
    """One incident or thirty, with owners, severities and post-mortems: the same queries."""
    IncidentFactory(service=service, severity=severity)
    logged_in.get(CHANGELIST)  # warm caches unrelated to the rows
    with CaptureQueriesContext(connection) as one:
        response = logged_in.get(CHANGELIST)
    assert len(listed(response)) == 1

    severities = [severity, factories.PriorityFactory(service=service, code="P1")]
    for n in range(29):
        mine = {"service": service, "severity": severities[n % 2]}
        incident = IncidentFactory(
            **(mine if n % 3 else {"service": factories.ServiceFactory()}),
            resolved_at=NOW if n % 2 else None,
            started_at=NOW - timedelta(hours=1),
        )
        if n % 4 == 0:
            Postmortem.objects.create(incident=incident, summary="S", completed_at=NOW)
    with CaptureQueriesContext(connection) as thirty:
        response = logged_in.get(CHANGELIST)
    assert len(listed(response)) == 30
    assert len(thirty.captured_queries) == len(one.captured_queries)


def test_filters_and_search(logged_in, service, severity, policy):
    down = IncidentFactory(service=service, severity=severity, title="Database down")
    slow = IncidentFactory(
        service=service,
        severity=factories.PriorityFactory(service=service, code="P2"),
        title="Slow pages",
        impact="degraded_performance",
        outage=False,
        step="triage",
        resolved_at=NOW,
        started_at=NOW - timedelta(hours=1),
    )
    assert listed(logged_in.get(CHANGELIST, {"severity": "P2"})) == {slow.pk}
    assert listed(logged_in.get(CHANGELIST, {"step": "triage"})) == {slow.pk}
    assert listed(logged_in.get(CHANGELIST, {"impact__exact": "degraded_performance"})) == {slow.pk}
    assert listed(logged_in.get(CHANGELIST, {"state": "open"})) == {down.pk}
    assert listed(logged_in.get(CHANGELIST, {"state": "postmortem_due"})) == {slow.pk}
    assert listed(logged_in.get(CHANGELIST, {"service__id__exact": service.pk})) == {
        down.pk,
        slow.pk,
    }
    assert listed(logged_in.get(CHANGELIST, {"q": "database"})) == {down.pk}
    assert listed(logged_in.get(CHANGELIST, {"q": f"INC-{slow.pk}"})) == {slow.pk}
    assert listed(logged_in.get(CHANGELIST, {"q": f"#{down.pk}"})) == {down.pk}


def test_customers_and_anonymous_are_kept_out(clock, client, customer, open_incident):
    incident = open_incident()
    for url in (CHANGELIST, change_url(incident), ADD):
        assert client.get(url).status_code == 302
        client.force_login(customer)
        assert client.get(url).status_code == 302
        client.logout()


def test_staff_cannot_delete_incidents(logged_in, open_incident, clock):
    incident = open_incident()
    response = logged_in.get(reverse("admin:incidents_incident_delete", args=[incident.pk]))
    assert response.status_code == 403


# --- opening ---------------------------------------------------------------------------------


def test_opening_from_the_add_page_goes_through_the_service(
    logged_in, staff, service, severity, policy, clock
):
    ticket = factories.TicketFactory(service=service)
    assert logged_in.get(ADD).status_code == 200
    response = logged_in.post(
        ADD,
        {
            "service": service.pk,
            "severity": severity.pk,
            "title": "Login broken",
            "impact": "major_outage",
            "started_at_0": "2027-01-06",
            "started_at_1": "11:30:00",
            "owner": staff.pk,
            "tickets": [ticket.pk],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get()
    assert incident.title == "Login broken" and incident.step == "detect"
    assert incident.impact == "major_outage" and incident.outage is True
    assert incident.published_at is None  # a draft until published
    assert incident.opened_by == staff
    assert incident.started_at == NOW - timedelta(minutes=30)
    assert list(incident.tickets.all()) == [ticket]
    assert IncidentStepRecord.objects.filter(incident=incident, step="detect", by=staff).exists()


def test_a_severity_of_another_service_is_refused_on_the_add_page(
    logged_in, staff, service, policy, clock
):
    other = factories.PriorityFactory(service=factories.ServiceFactory(), code="P0")
    response = logged_in.post(
        ADD,
        {
            "service": service.pk,
            "severity": other.pk,
            "title": "Login broken",
            "started_at_0": "2027-01-06",
            "started_at_1": "11:30:00",
            "owner": staff.pk,
        },
    )
    assert response.status_code == 200
    assert "priorities" in response.content.decode()
    assert not Incident.objects.exists()


def test_ticket_admin_opens_an_incident_prefilled_from_tickets(
    logged_in, staff, service, severity, clock
):
    """The ticket list's action lands on the add page with service, severity, a neutral title
    and the tickets filled in; the ticket page shows its incidents and the same link."""
    first = factories.TicketFactory(service=service, priority=severity, subject="Checkout 500s")
    second = factories.TicketFactory(service=service, priority=severity)
    response = logged_in.post(
        reverse("admin:tickets_ticket_changelist"),
        {"action": "open_incident", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    page = logged_in.get(response["Location"])
    form = page.context["adminform"].form
    assert form.initial["service"] == str(service.pk)
    assert form.initial["severity"] == str(severity.pk)
    assert form.initial["title"] == f"{service.name}: degraded service"
    assert sorted(map(int, form.initial["tickets"])) == sorted([first.pk, second.pk])

    incident = services.incident_open(
        service=service, severity=severity, title="Checkout down", by=staff, tickets=[first]
    )
    ticket_page = logged_in.get(reverse("admin:tickets_ticket_change", args=[first.pk]))
    html = ticket_page.content.decode()
    assert change_url(incident) in html and "Checkout down" in html
    assert "Open an incident from this ticket" in html


def test_ticket_admin_refuses_tickets_of_two_services(logged_in, staff, service, clock):
    first = factories.TicketFactory(service=service)
    other = factories.TicketFactory(service=factories.ServiceFactory())
    response = logged_in.post(
        reverse("admin:tickets_ticket_changelist"),
        {"action": "open_incident", "_selected_action": [first.pk, other.pk]},
        follow=True,
    )
    assert "Choose tickets of one service" in " ".join(messages_of(response))


# --- the change page -------------------------------------------------------------------------


def test_change_page_shows_steps_and_updates_marked_and_escaped(
    logged_in, staff, open_incident, clock
):
    incident = open_incident()
    services.incident_advance(incident=incident, step="triage", by=staff, note="<i>paged</i>")
    services.incident_post_update(
        incident=incident, body="<script>x()</script> public", public=True, by=staff
    )
    services.incident_post_update(incident=incident, body="secret note", public=False, by=staff)
    html = logged_in.get(change_url(incident)).content.decode()
    assert "triage" in html and escape("<i>paged</i>") in html
    assert "<script>x()</script>" not in html and escape("<script>x()</script>") in html
    assert "secret note" in html and "internal (staff only)" in html
    assert 'class="incident-public"' in html


def test_change_page_queries_do_not_grow_with_steps_and_updates(
    logged_in, staff, open_incident, clock
):
    incident = open_incident()
    logged_in.get(change_url(incident))
    with CaptureQueriesContext(connection) as few:
        logged_in.get(change_url(incident))
    for n in range(10):
        services.incident_post_update(incident=incident, body=f"u{n}", public=n % 2, by=staff)
    services.incident_advance(incident=incident, step="communicate", by=staff)
    with CaptureQueriesContext(connection) as many:
        logged_in.get(change_url(incident))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_moving_on_and_posting_updates_from_the_change_page(
    logged_in, staff, open_incident, service, clock
):
    Subscription.objects.create(service=service, email="sub@example.com", confirmed_at=NOW)
    incident = open_incident()
    page = logged_in.get(change_url(incident))
    response = logged_in.post(
        change_url(incident),
        page_data(
            page,
            move_to="communicate",
            step_note="status page updated",
            public_update="We are investigating.",
            internal_note="Looks like the cache.",
        ),
        follow=True,
    )
    assert response.redirect_chain, response.content.decode()[:3000]
    # The emails are recorded in the background, and the page says so (not "sent").
    said = " ".join(messages_of(response))
    assert "emails to the service's subscribers are being recorded in the background" in said
    assert not Notification.objects.exists()
    assert "being sent: 0 recorded so far" in logged_in.get(change_url(incident)).content.decode()
    incident.refresh_from_db()
    assert incident.step == "communicate"
    record = IncidentStepRecord.objects.filter(incident=incident).last()
    assert (record.step, record.by, record.note) == (
        "communicate",
        staff,
        "status page updated (skipped: triage)",
    )
    updates = list(IncidentUpdate.objects.order_by("id").values_list("body", "public"))
    assert updates == [("We are investigating.", True), ("Looks like the cache.", False)]
    send_incident_updates()  # beat's sweep (or the task enqueued after the save)
    assert list(Notification.objects.values_list("to", flat=True)) == ["sub@example.com"]
    assert (
        "1 recorded, delivered by the outbox"
        in logged_in.get(change_url(incident)).content.decode()
    )


def test_saving_a_public_update_costs_the_same_for_two_subscribers_as_for_two_hundred(
    logged_in, staff, open_incident, service, clock
):
    """The admin save no longer records an email per subscriber: its queries do not grow with
    them, so 100,000 subscribers cannot push it past the worker timeout."""

    def subscribe(start, count):
        Subscription.objects.bulk_create(
            Subscription(service=service, email=f"s{n}@example.com", confirmed_at=NOW)
            for n in range(start, start + count)
        )

    def post(body):
        page = logged_in.get(change_url(incident))
        with CaptureQueriesContext(connection) as queries:
            response = logged_in.post(change_url(incident), page_data(page, public_update=body))
        assert response.status_code == 302
        return len(queries.captured_queries)

    incident = open_incident()
    subscribe(0, 2)
    post("zero")  # the page lists an update from now on, in both posts below
    few = post("first")
    subscribe(2, 198)
    assert post("second") == few
    assert not Notification.objects.exists()
    assert send_incident_updates() == 3 * 200  # three updates, all 200 subscribed by now


def test_a_refused_save_says_nothing_of_emails(logged_in, staff, open_incident, clock):
    """The update is rolled back with the rest of a refused save: no "being sent" message."""
    incident = open_incident()
    services.incident_advance(incident=incident, step="communicate", by=staff)
    page = logged_in.get(change_url(incident))
    response = logged_in.post(
        change_url(incident),
        page_data(page, move_to="detect", public_update="Back to detect"),
        follow=True,
    )
    said = " ".join(messages_of(response))
    assert "Nothing was saved" in said and "background" not in said
    assert send_incident_updates() == 0


def test_resolving_with_an_earlier_end_from_the_change_page(logged_in, staff, open_incident, clock):
    incident = open_incident(started_at=NOW - timedelta(hours=3))
    page = logged_in.get(change_url(incident))
    response = logged_in.post(
        change_url(incident),
        page_data(
            page,
            move_to="resolve",
            resolved_at_input_0="2027-01-06",
            resolved_at_input_1="11:00:00",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    incident.refresh_from_db()
    assert incident.step == "resolve"
    assert incident.resolved_at == NOW - timedelta(hours=1)
    assert incident.postmortem_due_at == NOW + timedelta(hours=47)


def test_a_refused_move_saves_nothing_and_says_why(logged_in, staff, open_incident, clock):
    incident = open_incident()
    services.incident_advance(incident=incident, step="communicate", by=staff)
    page = logged_in.get(change_url(incident))
    response = logged_in.post(
        change_url(incident),
        page_data(page, move_to="detect", title="Renamed", public_update="Back to detect"),
        follow=True,
    )
    assert "Nothing was saved" in " ".join(messages_of(response))
    assert "only move forward" in " ".join(messages_of(response))
    incident.refresh_from_db()
    assert incident.step == "communicate" and incident.title == "Database unreachable"
    assert not IncidentUpdate.objects.exists()


def test_actions_move_on_and_resolve(logged_in, staff, open_incident, clock):
    first, second = open_incident(), open_incident(title="Second")
    response = logged_in.post(
        CHANGELIST,
        {"action": "advance_to_next_step", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    assert "moved on" in " ".join(messages_of(response))
    assert set(Incident.objects.values_list("step", flat=True)) == {"triage"}
    logged_in.post(CHANGELIST, {"action": "resolve_now", "_selected_action": [first.pk]})
    response = logged_in.post(
        CHANGELIST, {"action": "resolve_now", "_selected_action": [first.pk]}, follow=True
    )
    assert "already resolved" in " ".join(messages_of(response))
    first.refresh_from_db()
    assert first.resolved_at == NOW and first.step == "resolve"


# --- post-mortems ----------------------------------------------------------------------------


def test_writing_completing_and_publishing_a_postmortem(
    logged_in, staff, other_staff, open_incident, clock
):
    incident = open_incident()
    services.incident_resolve(incident=incident, by=staff)
    incident_page = logged_in.get(change_url(incident)).content.decode()
    add = reverse("admin:incidents_postmortem_add")
    assert f"{add}?incident={incident.pk}" in incident_page

    page = logged_in.get(f"{add}?incident={incident.pk}")
    assert page.status_code == 200
    response = logged_in.post(
        f"{add}?incident={incident.pk}",
        page_data(
            page,
            incident=incident.pk,
            summary="Checkout was down 40 minutes.",
            timeline="11:00 alert\n11:40 fixed",
            root_cause="A full disk.",
            **{
                "actions-0-description": "Alert on disk usage",
                "actions-0-owner": other_staff.pk,
                "actions-0-due_on": "2027-01-20",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    postmortem = Postmortem.objects.get()
    assert postmortem.root_cause == "A full disk." and postmortem.completed_at is None
    (action,) = postmortem.actions.all()
    assert action.owner == other_staff

    change = reverse("admin:incidents_postmortem_change", args=[postmortem.pk])
    page = logged_in.get(change)
    response = logged_in.post(
        change, page_data(page, complete="on", published="on", **{"actions-0-done": "on"})
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    postmortem.refresh_from_db()
    incident.refresh_from_db()
    assert postmortem.completed_by == staff and postmortem.published_at == NOW
    assert incident.step == "review" and incident.postmortem_reminder_at is None
    assert postmortem.actions.get().done_at == NOW


def test_publishing_an_unfinished_postmortem_is_refused_whole(
    logged_in, staff, open_incident, clock
):
    incident = open_incident()
    postmortem = services.postmortem_save(incident=incident, by=staff, summary="Draft")
    change = reverse("admin:incidents_postmortem_change", args=[postmortem.pk])
    page = logged_in.get(change)
    response = logged_in.post(
        change, page_data(page, summary="Edited", published="on"), follow=True
    )
    assert "Only a completed post-mortem can be published" in " ".join(messages_of(response))
    postmortem.refresh_from_db()
    assert postmortem.summary == "Draft" and postmortem.published_at is None


def test_postmortem_list_renders(logged_in, staff, open_incident, clock):
    incident = open_incident()
    services.postmortem_save(incident=incident, by=staff, summary="S")
    response = logged_in.get(reverse("admin:incidents_postmortem_changelist"))
    assert response.status_code == 200
    assert incident.number in response.content.decode()


def test_tickets_of_higher_tiers_are_counted_not_shown_and_never_unlinked(
    logged_in, staff, open_incident, service, clock
):
    """A tier-1 member sees that a tier-3 ticket is linked but not which; saving the incident
    leaves that link alone."""
    visible = factories.TicketFactory(service=service, subject="Visible one")
    hidden = factories.TicketFactory(service=service, subject="Secret tier 3", tier=3)
    incident = open_incident(tickets=[visible, hidden])
    page = logged_in.get(change_url(incident))
    html = page.content.decode()
    assert "1 in higher tiers" in html and "Secret tier 3" not in html
    data = page_data(page, tickets=[], title="Renamed")  # the member unlinks what they see
    response = logged_in.post(change_url(incident), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.title == "Renamed"
    assert list(incident.tickets.all()) == [hidden]


def test_ticket_autocomplete_offers_only_tickets_the_member_may_see(logged_in, service, clock):
    factories.TicketFactory(service=service, subject="Printer jam")
    factories.TicketFactory(service=service, subject="Printer fire", tier=3)
    response = logged_in.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "incidents",
            "model_name": "incident",
            "field_name": "tickets",
            "term": "Printer",
        },
    )
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == [
        str(Ticket.objects.get(subject="Printer jam"))
    ]


def test_an_actions_due_date_emptied_on_the_postmortem_page_is_cleared(
    logged_in, staff, open_incident, clock
):
    incident = open_incident()
    postmortem = services.postmortem_save(incident=incident, by=staff, summary="S")
    services.postmortem_action_add(
        postmortem=postmortem, by=staff, description="Alert", owner=staff, due_on=NOW.date()
    )
    change = reverse("admin:incidents_postmortem_change", args=[postmortem.pk])
    page = logged_in.get(change)
    data = page_data(page)
    del data["actions-0-due_on"]
    response = logged_in.post(change, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    action = postmortem.actions.get()
    assert action.due_on is None and action.owner == staff


def test_emptying_the_owner_is_refused_and_changes_nothing(logged_in, staff, open_incident, clock):
    """The reminders go to the owner: an emptied owner field is an error, not ignored."""
    incident = open_incident()
    page = logged_in.get(change_url(incident))
    data = page_data(page, title="Renamed")
    del data["owner"]
    response = logged_in.post(change_url(incident), data)
    assert response.status_code == 200
    assert "owner" in response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.owner == staff and incident.title == "Database unreachable"


def test_postmortem_list_query_count_does_not_grow(logged_in, staff, open_incident, clock):
    """One post-mortem or twelve, of several services, completed and published: same queries."""
    changelist = reverse("admin:incidents_postmortem_changelist")

    def postmortem_of(incident, *, publish):
        services.incident_resolve(incident=incident, by=staff)
        services.postmortem_save(incident=incident, by=staff, summary="S", root_cause="R")
        if publish:
            services.postmortem_complete(incident=incident, by=staff)
            services.postmortem_publish(incident=incident, by=staff)

    postmortem_of(open_incident(), publish=True)
    logged_in.get(changelist)
    with CaptureQueriesContext(connection) as one:
        response = logged_in.get(changelist)
    assert len(response.context["cl"].result_list) == 1
    for n in range(11):
        service = factories.ServiceFactory()
        severity = factories.PriorityFactory(service=service, code="P1")
        postmortem_of(open_incident(service=service, severity=severity), publish=n % 2)
    with CaptureQueriesContext(connection) as twelve:
        response = logged_in.get(changelist)
    assert len(response.context["cl"].result_list) == 12
    assert len(twelve.captured_queries) == len(one.captured_queries)


def test_a_ticket_of_a_higher_tier_cannot_be_linked_from_the_add_page(
    logged_in, staff, service, severity, policy, clock
):
    """A tier-1 member who puts a tier-3 ticket's id in the prefilled add page is refused;
    nothing is opened."""
    hidden = factories.TicketFactory(service=service, tier=3)
    response = logged_in.post(
        ADD,
        {
            "service": service.pk,
            "severity": severity.pk,
            "title": "Login broken",
            "started_at_0": "2027-01-06",
            "started_at_1": "11:30:00",
            "owner": staff.pk,
            "tickets": [hidden.pk],
        },
    )
    assert response.status_code == 200
    assert "tickets" in response.context["adminform"].form.errors
    assert not Incident.objects.exists()


def test_lists_name_each_postmortem_state(logged_in, service, severity, policy):
    """Both lists say where each post-mortem stands: draft, completed or published; the
    incident list shows the deadline of one not begun, and of a draft."""
    due = NOW + timedelta(hours=48)
    states = {}
    for name, fields in (
        ("none", None),
        ("draft", {}),
        ("completed", {"completed_at": NOW}),
        ("published", {"completed_at": NOW, "published_at": NOW}),
    ):
        incident = IncidentFactory(
            service=service, severity=severity, resolved_at=NOW, postmortem_due_at=due
        )
        if fields is not None:
            Postmortem.objects.create(incident=incident, summary="S", **fields)
        states[name] = incident

    changelist = logged_in.get(CHANGELIST).context["cl"]
    shown = changelist.model_admin.postmortem_state
    rows = {incident.pk: incident for incident in changelist.result_list}
    assert shown(rows[states["none"].pk]) == "due 2027-01-08 12:00 UTC"
    assert shown(rows[states["draft"].pk]) == "due 2027-01-08 12:00 UTC"
    assert shown(rows[states["completed"].pk]) == "completed"
    assert shown(rows[states["published"].pk]) == "published"

    page = logged_in.get(reverse("admin:incidents_postmortem_changelist")).content.decode()
    for name in ("draft", "completed", "published"):
        assert f'<td class="field-state">{name}</td>' in page
    link = logged_in.get(change_url(states["completed"])).content.decode()
    assert "Open the post-mortem</a> (completed)" in link
