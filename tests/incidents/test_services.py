"""Incidents through their services: steps with who and when, resolution, bad moves refused."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents import services
from incidents.models import Incident, IncidentStepRecord, Postmortem
from sla.models import IncidentPolicy
from tests import factories
from tests.incidents.conftest import NOW

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def records(incident):
    return list(
        IncidentStepRecord.objects.filter(incident=incident)
        .order_by("at", "id")
        .values_list("step", "at", "by_id", "note")
    )


def state(incident):
    """Everything a refused call must leave as it was."""
    incident = Incident.objects.get(pk=incident.pk)
    return (
        incident.step,
        incident.resolved_at,
        incident.postmortem_due_at,
        incident.postmortem_reminder_at,
        incident.title,
        incident.started_at,
        len(records(incident)),
    )


# --- opening ---------------------------------------------------------------------------------


def test_opening_starts_at_the_first_step_recording_who_and_when(clock, open_incident, staff):
    """The incident starts at "detect", owned and opened by the staff member, now."""
    incident = open_incident()
    assert incident.step == "detect"
    assert incident.owner == staff and incident.opened_by == staff
    assert incident.started_at == NOW and incident.resolved_at is None
    assert records(incident) == [("detect", NOW, staff.pk, "")]


def test_opening_links_tickets_and_takes_severity_by_code(clock, open_incident, service, severity):
    tickets = [factories.TicketFactory(service=service) for _ in range(2)]
    incident = open_incident(severity="P0", tickets=tickets, started_at=NOW - 2 * HOUR)
    assert incident.severity == severity
    assert set(incident.tickets.all()) == set(tickets)
    assert incident.started_at == NOW - 2 * HOUR


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"severity": "P9"}, "severity"),
        ({"started_at": NOW + HOUR}, "started_at"),
        ({"started_at": datetime(2027, 1, 6, 11, 0)}, "started_at"),  # naive
    ],
)
def test_bad_input_opens_nothing(clock, open_incident, change, field):
    with pytest.raises(ValidationError) as caught:
        open_incident(**change)
    assert field in caught.value.message_dict
    assert not Incident.objects.exists()


def test_a_severity_of_another_service_or_retired_is_refused(clock, open_incident, service):
    other = factories.PriorityFactory(service=factories.ServiceFactory(), code="P0")
    with pytest.raises(ValidationError):
        open_incident(severity=other)
    retired = factories.PriorityFactory(service=service, code="P7", retired_at=timezone.now())
    with pytest.raises(ValidationError, match="no longer"):
        open_incident(severity=retired)
    assert not Incident.objects.exists()


def test_a_ticket_of_another_service_is_refused(clock, open_incident, service):
    mine = factories.TicketFactory(service=service)
    theirs = factories.TicketFactory(service=factories.ServiceFactory())
    with pytest.raises(ValidationError, match="another service"):
        open_incident(tickets=[mine, theirs])
    assert not Incident.objects.exists()


def test_only_active_staff_open_incidents(clock, open_incident, customer):
    with pytest.raises(PermissionDenied):
        open_incident(by=customer)
    with pytest.raises(ValidationError):
        open_incident(owner=customer)
    assert not Incident.objects.exists()


def test_linking_a_ticket_twice_links_it_once(clock, open_incident, service, staff):
    incident = open_incident()
    ticket = factories.TicketFactory(service=service)
    services.incident_link_ticket(incident=incident, ticket=ticket, by=staff)
    services.incident_link_ticket(incident=incident, ticket=ticket, by=staff)
    assert list(incident.tickets.all()) == [ticket]
    assert list(ticket.incidents.all()) == [incident]
    services.incident_unlink_ticket(incident=incident, ticket=ticket, by=staff)
    assert not incident.tickets.exists()


# --- steps -----------------------------------------------------------------------------------


def test_each_step_is_timestamped_with_who_moved_it(clock, open_incident, staff, other_staff):
    """detect → triage → communicate: each step entered is recorded with its time and mover."""
    incident = open_incident()
    clock.move_to(NOW + timedelta(minutes=5))
    services.incident_advance(incident=incident, step="triage", by=other_staff, note="on it")
    clock.move_to(NOW + timedelta(minutes=20))
    services.incident_advance(incident=incident, step="communicate", by=staff)
    incident.refresh_from_db()
    assert incident.step == "communicate"
    assert records(incident) == [
        ("detect", NOW, staff.pk, ""),
        ("triage", NOW + timedelta(minutes=5), other_staff.pk, "on it"),
        ("communicate", NOW + timedelta(minutes=20), staff.pk, ""),
    ]
    assert incident.resolved_at is None


def test_entering_the_resolve_step_resolves_and_sets_the_postmortem_deadline(
    clock, open_incident, staff
):
    """Resolved at the moment of the move; post-mortem due 48 h later; first reminder at
    half-time."""
    incident = open_incident(started_at=NOW - HOUR)
    clock.move_to(NOW + 2 * HOUR)
    services.incident_advance(incident=incident, step="resolve", by=staff)
    incident.refresh_from_db()
    assert incident.resolved_at == NOW + 2 * HOUR
    assert incident.postmortem_due_at == NOW + 50 * HOUR
    assert incident.postmortem_reminder_at == NOW + 26 * HOUR
    assert records(incident)[-1][:3] == ("resolve", NOW + 2 * HOUR, staff.pk)
    assert records(incident)[-1][3] == "skipped: triage, communicate"


def test_explicit_resolve_may_date_the_end_of_the_impact_back(clock, open_incident, staff):
    incident = open_incident(started_at=NOW - 3 * HOUR)
    services.incident_resolve(incident=incident, by=staff, resolved_at=NOW - HOUR)
    incident.refresh_from_db()
    assert incident.step == "resolve"
    assert incident.resolved_at == NOW - HOUR
    assert incident.postmortem_due_at == NOW + 47 * HOUR
    assert records(incident)[-1][:2] == ("resolve", NOW)  # recorded when it was done


@pytest.mark.parametrize(
    "resolved_at, message",
    [
        (NOW + HOUR, "future"),
        (NOW - 5 * HOUR, "before it started"),
        (datetime(2027, 1, 6, 11, 0), "time zone"),  # naive
    ],
)
def test_a_bad_resolution_time_changes_nothing(clock, open_incident, staff, resolved_at, message):
    incident = open_incident(started_at=NOW - 3 * HOUR)
    before = state(incident)
    with pytest.raises(ValidationError, match=message):
        services.incident_resolve(incident=incident, by=staff, resolved_at=resolved_at)
    assert state(incident) == before


def test_resolving_twice_is_refused(clock, open_incident, staff):
    incident = open_incident()
    services.incident_resolve(incident=incident, by=staff)
    before = state(incident)
    with pytest.raises(ValidationError, match="already resolved"):
        services.incident_resolve(incident=incident, by=staff)
    assert state(incident) == before


@pytest.mark.parametrize(
    "step, message",
    [("triage", "already at"), ("fixing", "not a step of this service's incident process")],
)
def test_bad_moves_get_a_clear_error_and_change_nothing(clock, open_incident, staff, step, message):
    incident = open_incident()
    services.incident_advance(incident=incident, step="triage", by=staff)
    before = state(incident)
    with pytest.raises(ValidationError, match=message):
        services.incident_advance(incident=incident, step=step, by=staff)
    assert state(incident) == before


def test_staff_cannot_move_back_a_step(clock, open_incident, staff):
    """Steps move forward only: moving back is refused (a superuser's move), nothing changes."""
    incident = open_incident()
    services.incident_advance(incident=incident, step="communicate", by=staff)
    before = state(incident)
    with pytest.raises(PermissionDenied, match="only move forward"):
        services.incident_advance(incident=incident, step="triage", by=staff)
    assert state(incident) == before


def test_staff_cannot_reopen_a_resolved_incident(clock, open_incident, staff):
    incident = open_incident()
    services.incident_advance(incident=incident, step="review", by=staff)
    incident.refresh_from_db()
    assert incident.resolved_at == NOW  # entering a step past "resolve" resolves too
    before = state(incident)
    with pytest.raises(PermissionDenied):
        services.incident_advance(incident=incident, step="triage", by=staff)
    assert state(incident) == before


def test_a_superuser_moving_back_before_resolve_reopens_it(clock, open_incident, superuser):
    incident = open_incident()
    services.incident_resolve(incident=incident, by=superuser)
    clock.move_to(NOW + HOUR)
    services.incident_advance(incident=incident, step="triage", by=superuser, note="not fixed")
    incident.refresh_from_db()
    assert incident.step == "triage"
    assert incident.resolved_at is None
    assert incident.postmortem_due_at is None and incident.postmortem_reminder_at is None
    assert records(incident)[-1] == (
        "triage",
        NOW + HOUR,
        superuser.pk,
        "not fixed (moved back from resolve; reopened)",
    )
    # Resolved again: a fresh deadline from the new resolution.
    clock.move_to(NOW + 3 * HOUR)
    services.incident_resolve(incident=incident, by=superuser)
    incident.refresh_from_db()
    assert incident.postmortem_due_at == NOW + 51 * HOUR


def test_the_plans_own_steps_are_used(clock, service, severity, staff):
    """Roofing's process: "resolution" is the resolving step; "post-mortem" comes after."""
    IncidentPolicy.objects.create(
        service=service,
        postmortem_due="",
        steps=["detection", "assessment", "communication", "response", "resolution", "post-mortem"],
    )
    incident = services.incident_open(service=service, severity=severity, title="Down", by=staff)
    assert incident.step == "detection"
    services.incident_advance(incident=incident, step="response", by=staff)
    incident.refresh_from_db()
    assert incident.resolved_at is None
    with pytest.raises(ValidationError, match="not a step"):
        services.incident_advance(incident=incident, step="resolve", by=staff)
    services.incident_advance(incident=incident, step="resolution", by=staff)
    incident.refresh_from_db()
    assert incident.resolved_at == NOW
    # No postmortem_due in the plan: no deadline, no reminders.
    assert incident.postmortem_due_at is None and incident.postmortem_reminder_at is None


def test_a_plan_without_a_resolve_step_resolves_at_its_last(clock, service, severity, staff):
    IncidentPolicy.objects.create(
        service=service, postmortem_due="48h", steps=["open", "mitigate", "closed"]
    )
    incident = services.incident_open(service=service, severity=severity, title="Down", by=staff)
    services.incident_advance(incident=incident, step="mitigate", by=staff)
    incident.refresh_from_db()
    assert incident.resolved_at is None
    services.incident_advance(incident=incident, step="closed", by=staff)
    incident.refresh_from_db()
    assert incident.resolved_at == NOW


def test_without_a_plan_the_default_process_applies(clock, service, severity, staff):
    incident = services.incident_open(service=service, severity=severity, title="Down", by=staff)
    assert incident.step == "detect"
    services.incident_resolve(incident=incident, by=staff)
    incident.refresh_from_db()
    assert incident.step == "resolve" and incident.postmortem_due_at is None


def test_business_day_deadline_counts_open_days_of_the_severity_calendar(service, staff):
    """ "2bd" on a Mon–Fri 09–18 New York calendar: resolved Friday 16:00 EST before the
    spring-forward weekend → due Tuesday 16:00 EDT, which is 20:00 UTC (not 21:00)."""
    calendar = factories.CalendarFactory(service=service, name="business-hours")
    severity = factories.PriorityFactory(service=service, code="P2", calendar=calendar)
    IncidentPolicy.objects.create(service=service, postmortem_due="2bd", steps=[])
    friday = datetime(2027, 3, 12, 21, 0, tzinfo=UTC)  # 16:00 EST
    with time_machine.travel(friday, tick=False):
        incident = services.incident_open(
            service=service, severity=severity, title="Slow", by=staff
        )
        services.incident_resolve(incident=incident, by=staff)
    incident.refresh_from_db()
    assert incident.postmortem_due_at == datetime(2027, 3, 16, 20, 0, tzinfo=UTC)
    span = incident.postmortem_due_at - friday
    assert incident.postmortem_reminder_at == friday + span / 2


def test_editing_refuses_a_start_after_the_resolution(clock, open_incident, staff):
    incident = open_incident(started_at=NOW - 2 * HOUR)
    services.incident_resolve(incident=incident, by=staff, resolved_at=NOW - HOUR)
    before = state(incident)
    with pytest.raises(ValidationError, match="start after"):
        services.incident_edit(incident=incident, by=staff, started_at=NOW - timedelta(minutes=30))
    assert state(incident) == before
    services.incident_edit(incident=incident, by=staff, title="  DB   down ", outage=False)
    incident.refresh_from_db()
    assert incident.title == "DB down" and incident.outage is False


# --- post-mortems ----------------------------------------------------------------------------


def test_postmortem_completion_needs_resolution_and_its_key_parts(clock, open_incident, staff):
    incident = open_incident()
    services.postmortem_save(incident=incident, by=staff, summary="Disk full")
    with pytest.raises(ValidationError, match="not resolved"):
        services.postmortem_complete(incident=incident, by=staff)
    services.incident_resolve(incident=incident, by=staff)
    with pytest.raises(ValidationError, match="root cause"):
        services.postmortem_complete(incident=incident, by=staff)
    assert Postmortem.objects.get().completed_at is None
    assert Incident.objects.get().postmortem_reminder_at is not None


def test_completing_stops_reminders_and_moves_to_review(clock, open_incident, staff):
    incident = open_incident()
    services.incident_resolve(incident=incident, by=staff)
    services.postmortem_save(
        incident=incident, by=staff, summary="Disk full", root_cause="No alert on disk usage"
    )
    clock.move_to(NOW + 3 * HOUR)
    services.postmortem_complete(incident=incident, by=staff)
    incident.refresh_from_db()
    postmortem = incident.postmortem
    assert postmortem.completed_at == NOW + 3 * HOUR and postmortem.completed_by == staff
    assert incident.postmortem_reminder_at is None
    assert incident.step == "review"
    assert records(incident)[-1] == ("review", NOW + 3 * HOUR, staff.pk, "post-mortem completed")
    with pytest.raises(ValidationError, match="already completed"):
        services.postmortem_complete(incident=incident, by=staff)


def test_only_a_completed_postmortem_is_published(clock, open_incident, staff):
    incident = open_incident()
    services.incident_resolve(incident=incident, by=staff)
    services.postmortem_save(incident=incident, by=staff, summary="S", root_cause="R")
    with pytest.raises(ValidationError, match="completed"):
        services.postmortem_publish(incident=incident, by=staff)
    services.postmortem_complete(incident=incident, by=staff)
    services.postmortem_publish(incident=incident, by=staff)
    assert Postmortem.objects.get().published_at == NOW
    with pytest.raises(ValidationError, match="already published"):
        services.postmortem_publish(incident=incident, by=staff)
    services.postmortem_unpublish(incident=incident, by=staff)
    assert Postmortem.objects.get().published_at is None


def test_actions_have_staff_owners(clock, open_incident, staff, other_staff, customer):
    incident = open_incident()
    postmortem = services.postmortem_save(incident=incident, by=staff, summary="S")
    action = services.postmortem_action_add(
        postmortem=postmortem, by=staff, description="Alert on disk usage", owner=other_staff
    )
    assert action.owner == other_staff and action.done_at is None
    with pytest.raises(ValidationError):
        services.postmortem_action_add(
            postmortem=postmortem, by=staff, description="x", owner=customer
        )
    with pytest.raises(ValidationError):
        services.postmortem_action_add(postmortem=postmortem, by=staff, description="  ")
    services.postmortem_action_edit(action=action, by=staff, done=True)
    action.refresh_from_db()
    assert action.done_at == NOW
    assert postmortem.actions.count() == 1


def test_resolving_at_a_step_past_the_resolving_one_records_who_did_it(
    clock, open_incident, service, staff, other_staff
):
    """The plan was edited so that the incident's step now comes after the resolving step:
    it resolves where it stands, and a record says who resolved it and when."""
    incident = open_incident()
    services.incident_advance(incident=incident, step="communicate", by=staff)
    IncidentPolicy.objects.filter(service=service).update(
        steps=["detect", "triage", "resolve", "communicate", "review"]
    )
    clock.move_to(NOW + HOUR)
    services.incident_resolve(incident=incident, by=other_staff, note="fixed by a restart")
    incident.refresh_from_db()
    assert incident.step == "communicate" and incident.resolved_at == NOW + HOUR
    assert records(incident)[-1] == (
        "communicate",
        NOW + HOUR,
        other_staff.pk,
        "fixed by a restart (resolved at this step)",
    )


def test_an_actions_due_date_and_owner_can_be_cleared(clock, open_incident, staff):
    incident = open_incident()
    postmortem = services.postmortem_save(incident=incident, by=staff, summary="S")
    action = services.postmortem_action_add(
        postmortem=postmortem,
        by=staff,
        description="Alert on disk usage",
        owner=staff,
        due_on=NOW.date(),
    )
    services.postmortem_action_edit(action=action, by=staff, description="Alert on disk usage")
    action.refresh_from_db()
    assert action.due_on == NOW.date() and action.owner == staff  # None leaves them
    services.postmortem_action_edit(action=action, by=staff, clear_due_on=True, clear_owner=True)
    action.refresh_from_db()
    assert action.due_on is None and action.owner is None
