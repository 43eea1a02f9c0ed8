"""Post-mortem reminders: owner at half-time and at the deadline, then the management chain,
each once — on time, late, twice, across a DST change, and after a crash."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import reminders, services
from incidents.models import Incident
from notifications.models import Notification
from sla.models import IncidentPolicy
from tests import factories
from tests.incidents.conftest import NOW
from tests.notifications.backends import WorkerKilled

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
def chain(service):
    """Tech Lead (two people) then Project Manager, an hour apart."""
    factories.EscalationPolicyFactory(
        service=service,
        management_chain=["Tech Lead", "Project Manager"],
        management_interval="1h",
    )
    factories.ManagementContactFactory(service=service, role="Tech Lead", email="lead@example.com")
    lead = factories.StaffFactory(email="lead2@example.com")
    factories.ManagementContactFactory(service=service, role="Tech Lead", user=lead, email="")
    factories.ManagementContactFactory(
        service=service, role="Project Manager", email="pm@example.com"
    )


@pytest.fixture
def resolved(clock, open_incident, staff, chain):
    """An incident resolved at NOW (opened an hour before): post-mortem due NOW + 48 h."""

    def make(**kwargs):
        clock.move_to(NOW - H)
        incident = open_incident(**kwargs)
        clock.move_to(NOW)
        services.incident_resolve(incident=incident, by=staff)
        incident.refresh_from_db()
        return incident

    return make


def sweep(clock, at):
    clock.move_to(at)
    return reminders.postmortem_reminders_send_due()


def sent(incident=None):
    """(stage, recipient) of every reminder recorded, in key order."""
    rows = Notification.objects.filter(key__contains=":postmortem:")
    if incident is not None:
        rows = rows.filter(key__startswith=f"incident:{incident.pk}:")
    return sorted((key.split(":")[4], to) for key, to in rows.values_list("key", "to"))


def test_owner_at_half_time_and_deadline_then_each_role_once(resolved, clock, staff):
    incident = resolved()
    assert sweep(clock, NOW + 24 * H - M) == {}
    assert sent() == []
    sweep(clock, NOW + 24 * H)
    assert sent() == [("halftime", staff.email)]
    sweep(clock, NOW + 24 * H)  # twice in the same minute
    sweep(clock, NOW + 48 * H - M)
    assert sent() == [("halftime", staff.email)]
    sweep(clock, NOW + 48 * H)
    assert sent() == [("deadline", staff.email), ("halftime", staff.email)]
    sweep(clock, NOW + 49 * H)
    sweep(clock, NOW + 49 * H + 30 * M)
    assert ("management-1", "lead@example.com") in sent()
    assert ("management-1", "lead2@example.com") in sent()
    assert not [row for row in sent() if row[0] == "management-2"]
    sweep(clock, NOW + 50 * H)
    sweep(clock, NOW + 90 * H)
    assert sent() == [
        ("deadline", staff.email),
        ("halftime", staff.email),
        ("management-1", "lead2@example.com"),
        ("management-1", "lead@example.com"),
        ("management-2", "pm@example.com"),
    ]
    incident.refresh_from_db()
    assert incident.postmortem_reminder_at is None  # nothing left: the sweep stops reading it
    subjects = dict(Notification.objects.values_list("to", "subject"))
    assert "Post-mortem overdue (Project Manager)" in subjects["pm@example.com"]


def test_a_late_run_sends_the_deadline_reminder_not_a_stale_half_time_one(resolved, clock, staff):
    """Beat was down from before half-time until after the deadline: the owner gets the
    deadline reminder only; roles that came due later each hear once, together if late."""
    resolved()
    sweep(clock, NOW + 48 * H + 30 * M)
    assert sent() == [("deadline", staff.email)]
    sweep(clock, NOW + 55 * H)
    assert sent() == [
        ("deadline", staff.email),
        ("management-1", "lead2@example.com"),
        ("management-1", "lead@example.com"),
        ("management-2", "pm@example.com"),
    ]


def test_a_very_late_first_run_sends_what_is_due_once(resolved, clock, staff):
    resolved()
    counts = sweep(clock, NOW + 100 * H)
    assert counts["skipped"] == 1  # the stale half-time reminder, recorded as handled
    assert sorted(stage for stage, _ in sent()) == [
        "deadline",
        "management-1",
        "management-1",
        "management-2",
    ]
    sweep(clock, NOW + 101 * H)
    assert len(sent()) == 4


def test_completing_the_postmortem_stops_the_reminders(resolved, clock, staff):
    incident = resolved()
    sweep(clock, NOW + 24 * H)
    clock.move_to(NOW + 30 * H)
    services.postmortem_save(incident=incident, by=staff, summary="S", root_cause="R")
    services.postmortem_complete(incident=incident, by=staff)
    sweep(clock, NOW + 48 * H)
    sweep(clock, NOW + 60 * H)
    assert sent() == [("halftime", staff.email)]


def test_the_owner_reminders_go_to_the_owner(resolved, clock, other_staff):
    resolved(owner=other_staff)
    sweep(clock, NOW + 24 * H)
    assert sent() == [("halftime", other_staff.email)]


def test_nobody_to_remind_is_logged_and_not_retried_forever(resolved, clock, staff, caplog):
    incident = resolved()
    Incident.objects.filter(pk=incident.pk).update(owner=None, opened_by=None)
    counts = sweep(clock, NOW + 24 * H)
    assert counts["nobody"] == 1 and sent() == []
    assert "nobody to send the post-mortem halftime reminder" in caplog.text
    incident.refresh_from_db()
    assert incident.postmortem_reminder_at == NOW + 48 * H


def test_a_reopened_and_re_resolved_incident_gets_reminders_for_its_new_deadline(
    resolved, clock, superuser, staff
):
    incident = resolved()
    sweep(clock, NOW + 24 * H)
    clock.move_to(NOW + 25 * H)
    services.incident_advance(incident=incident, step="triage", by=superuser)
    assert sweep(clock, NOW + 48 * H) == {}  # reopened: nothing is due
    clock.move_to(NOW + 50 * H)
    services.incident_resolve(incident=incident, by=superuser)
    sweep(clock, NOW + 74 * H)
    assert sent() == [("halftime", staff.email), ("halftime", staff.email)]
    keys = set(Notification.objects.values_list("key", flat=True))
    assert len(keys) == 2  # one per deadline


def test_the_email_names_the_deadline_in_the_services_zone(resolved, clock, service, mailoutbox):
    service.timezone = "America/New_York"
    service.save(update_fields=["timezone"])
    resolved(title="Queue stuck")
    sweep(clock, NOW + 24 * H)
    from notifications.delivery import notifications_send_due

    notifications_send_due()
    (message,) = mailoutbox
    # Due 2027-01-08 12:00 UTC = 07:00 EST.
    assert "Friday 8 January 2027, 07:00 America/New_York" in message.body
    assert "2027-01-08 12:00 UTC" in message.body
    assert "Queue stuck" in message.subject


def test_half_time_across_the_spring_forward_night_is_real_elapsed_time(
    service, severity, staff, chain
):
    """Resolved Saturday 12:00 EST before the clocks spring forward; 48 h later is Monday
    13:00 EDT (17:00 UTC), half-time Sunday 13:00 EDT (17:00 UTC): elapsed time, not wall
    clock."""
    service.timezone = "America/New_York"
    service.save(update_fields=["timezone"])
    IncidentPolicy.objects.create(service=service, postmortem_due="48h", steps=[])
    resolved_at = datetime(2027, 3, 13, 17, 0, tzinfo=UTC)  # Sat 12:00 EST
    with time_machine.travel(resolved_at, tick=False) as clock:
        incident = services.incident_open(
            service=service, severity=severity, title="Down", by=staff
        )
        services.incident_resolve(incident=incident, by=staff)
        incident.refresh_from_db()
        assert incident.postmortem_due_at == datetime(2027, 3, 15, 17, 0, tzinfo=UTC)
        sweep(clock, datetime(2027, 3, 14, 16, 59, tzinfo=UTC))
        assert sent() == []
        sweep(clock, datetime(2027, 3, 14, 17, 0, tzinfo=UTC))
        assert sent() == [("halftime", staff.email)]
        sweep(clock, datetime(2027, 3, 15, 16, 59, tzinfo=UTC))
        sweep(clock, datetime(2027, 3, 15, 17, 0, tzinfo=UTC))
        assert sent() == [("deadline", staff.email), ("halftime", staff.email)]


def test_a_crash_half_way_rolls_the_batch_back_for_the_next_run(
    resolved, clock, staff, monkeypatch
):
    """Killed after writing the outbox rows, before commit: nothing of the batch stays; the
    next run records each reminder once."""
    incidents = [resolved(title=f"Outage {n}") for n in range(3)]
    real = reminders.notifications_create_many

    def dies(**kwargs):
        real(**kwargs)
        raise WorkerKilled("killed before commit")

    monkeypatch.setattr(reminders, "notifications_create_many", dies)
    with pytest.raises(WorkerKilled):
        sweep(clock, NOW + 24 * H)
    assert sent() == []
    assert all(
        i.postmortem_reminders_done == 0
        for i in Incident.objects.filter(pk__in=[i.pk for i in incidents])
    )
    monkeypatch.setattr(reminders, "notifications_create_many", real)
    sweep(clock, NOW + 24 * H)
    sweep(clock, NOW + 24 * H)
    assert sent() == [("halftime", staff.email)] * 3


def test_the_sweep_costs_the_same_queries_for_one_due_incident_as_for_twenty(
    resolved, clock, staff
):
    resolved()
    clock.move_to(NOW + 24 * H)
    with CaptureQueriesContext(connection) as one:
        reminders.postmortem_reminders_send_due()
    Notification.objects.all().delete()
    for n in range(20):
        resolved(title=f"Outage {n}")
    clock.move_to(NOW + 24 * H)
    with CaptureQueriesContext(connection) as twenty:
        reminders.postmortem_reminders_send_due()
    assert len(sent()) == 20
    assert len(twenty.captured_queries) == len(one.captured_queries)


@pytest.mark.postgres
def test_the_sweeps_query_uses_the_partial_index(resolved, clock):
    """The sweep's own due-rows query matches the partial index on postmortem_reminder_at
    (planner told to avoid a sequential scan, as it would on a large table): resolved-and-done
    incidents are never read."""
    resolved()
    clock.move_to(NOW + 24 * H)
    with CaptureQueriesContext(connection) as queries:
        reminders.postmortem_reminders_send_due()
    select = next(q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {select}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "incident_postmortem_reminder" in plan, plan


def test_beat_runs_the_task_every_minute(resolved, clock, staff, settings):
    from incidents.tasks import remind_postmortems

    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "incidents.tasks.remind_postmortems"
    )
    assert entry["schedule"] == 60.0
    assert remind_postmortems.name == "incidents.tasks.remind_postmortems"
    resolved()
    clock.move_to(NOW + 24 * H)
    remind_postmortems.run()
    assert sent() == [("halftime", staff.email)]


def test_an_inactive_owners_reminder_goes_to_who_opened_it(resolved, clock, staff, other_staff):
    resolved(owner=other_staff)
    other_staff.is_active = False
    other_staff.save(update_fields=["is_active"])
    sweep(clock, NOW + 24 * H)
    assert sent() == [("halftime", staff.email)]


def test_a_role_with_nobody_in_it_is_logged_and_the_chain_goes_on(
    clock, open_incident, staff, service, caplog
):
    """The plan names a role nobody holds: its stage is logged and passed, the next role
    still hears, and the sweep stops reading the incident at the end of the chain."""
    factories.EscalationPolicyFactory(
        service=service, management_chain=["Ghost", "Sponsor"], management_interval="1h"
    )
    factories.ManagementContactFactory(service=service, role="Sponsor", email="sp@example.com")
    clock.move_to(NOW)
    incident = open_incident()
    services.incident_resolve(incident=incident, by=staff)
    counts = sweep(clock, NOW + 51 * H)
    assert counts["nobody"] == 1
    assert "nobody to send the post-mortem management-1 reminder" in caplog.text
    assert sent() == [("deadline", staff.email), ("management-2", "sp@example.com")]
    incident.refresh_from_db()
    assert incident.postmortem_reminder_at is None and incident.postmortem_reminders_done == 4


def test_times_labelled_utc_in_the_reminder_are_utc_whatever_the_sites_zone(
    resolved, clock, settings, mailoutbox
):
    from notifications.delivery import notifications_send_due

    settings.TIME_ZONE = "America/New_York"
    resolved()
    sweep(clock, NOW + 24 * H)
    notifications_send_due()
    (message,) = mailoutbox
    # Resolved at NOW, 2027-01-06 12:00 UTC (07:00 in New York); due two days later.
    assert "Resolved: 2027-01-06 12:00 UTC" in message.body
    assert "(2027-01-08 12:00 UTC)" in message.body
    assert "Resolved: 2027-01-06 12:00 UTC" in message.alternatives[0][0]
