"""A resolved incident's new severity re-dates a business-day post-mortem deadline ("2bd"
counts open days of the severity's calendar) and its next reminder; a completed post-mortem
keeps the deadline it was written against.

Hand-checked dates. Resolved Friday 8 January 2027, 21:00 UTC (16:00 EST):
- P0, no calendar (24/7): 2 days → Sunday 10 January 21:00 UTC; half-time Saturday 9, 21:00.
- P2, Mon–Fri 09–18 New York: Friday 16:00 EST is open; the 1st open day after is Monday 11,
  the 2nd Tuesday 12 → Tuesday 16:00 EST = 21:00 UTC; half-time (4 days / 2) Sunday 10, 21:00.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import reminders, services
from incidents.models import Incident
from notifications.models import Notification
from sla.models import IncidentPolicy
from tests import factories

pytestmark = pytest.mark.django_db

RESOLVED = datetime(2027, 1, 8, 21, 0, tzinfo=UTC)  # Friday 16:00 EST
DUE_24_7 = datetime(2027, 1, 10, 21, 0, tzinfo=UTC)  # Sunday
HALF_24_7 = datetime(2027, 1, 9, 21, 0, tzinfo=UTC)  # Saturday
DUE_WEEKDAYS = datetime(2027, 1, 12, 21, 0, tzinfo=UTC)  # Tuesday 16:00 EST
HALF_WEEKDAYS = datetime(2027, 1, 10, 21, 0, tzinfo=UTC)  # Sunday


@pytest.fixture
def always(service):
    return factories.PriorityFactory(service=service, code="P0", name="Critical")


@pytest.fixture
def weekdays(service):
    calendar = factories.CalendarFactory(service=service, name="business-hours")
    return factories.PriorityFactory(service=service, code="P2", name="Medium", calendar=calendar)


@pytest.fixture
def staff(db):
    return factories.StaffFactory(email="owner@example.com")


@pytest.fixture
def resolved(service, always, staff):
    """An incident of severity P0 resolved at RESOLVED, its post-mortem due in "2bd"."""

    def make(due="2bd"):
        IncidentPolicy.objects.create(service=service, postmortem_due=due, steps=[])
        with time_machine.travel(RESOLVED - timedelta(hours=2), tick=False):
            incident = services.incident_open(
                service=service, severity=always, title="Slow", by=staff
            )
        with time_machine.travel(RESOLVED, tick=False):
            services.incident_resolve(incident=incident, by=staff)
        return Incident.objects.get(pk=incident.pk)

    return make


def dates(incident):
    incident = Incident.objects.get(pk=incident.pk)
    return (
        incident.postmortem_due_at,
        incident.postmortem_reminder_at,
        incident.postmortem_reminders_done,
    )


def edit_severity(incident, severity, by, at):
    with time_machine.travel(at, tick=False):
        services.incident_edit(incident=incident, by=by, severity=severity)


def reminders_sent():
    rows = Notification.objects.filter(key__contains=":postmortem:")
    return sorted(
        (key.split(":")[4], key.split(":")[3]) for key in rows.values_list("key", flat=True)
    )


def test_a_new_severity_re_dates_the_deadline_and_the_next_reminder(
    resolved, always, weekdays, staff
):
    incident = resolved()
    assert dates(incident) == (DUE_24_7, HALF_24_7, 0)
    edit_severity(incident, weekdays, staff, RESOLVED + timedelta(hours=1))
    assert dates(incident) == (DUE_WEEKDAYS, HALF_WEEKDAYS, 0)
    edit_severity(incident, "P0", staff, RESOLVED + timedelta(hours=2))  # and back
    assert dates(incident) == (DUE_24_7, HALF_24_7, 0)


def test_a_reminder_already_sent_is_not_repeated_and_the_next_one_moves(resolved, weekdays, staff):
    """Half-time sent on Saturday under 24/7; the severity then moves to the weekday calendar:
    the next reminder is the new deadline (Tuesday), not a second half-time on Sunday."""
    incident = resolved()
    with time_machine.travel(HALF_24_7, tick=False):
        reminders.postmortem_reminders_send_due()
    assert reminders_sent() == [("halftime", "20270110T210000Z")]
    assert dates(incident) == (DUE_24_7, DUE_24_7, 1)

    edit_severity(incident, weekdays, staff, HALF_24_7 + timedelta(hours=1))
    assert dates(incident) == (DUE_WEEKDAYS, DUE_WEEKDAYS, 1)
    for at in (HALF_WEEKDAYS, DUE_24_7, DUE_WEEKDAYS - timedelta(minutes=1)):
        with time_machine.travel(at, tick=False):
            reminders.postmortem_reminders_send_due()
    assert len(reminders_sent()) == 1
    with time_machine.travel(DUE_WEEKDAYS, tick=False):
        reminders.postmortem_reminders_send_due()
        reminders.postmortem_reminders_send_due()
    assert reminders_sent() == [
        ("deadline", "20270112T210000Z"),
        ("halftime", "20270110T210000Z"),
    ]


def test_a_completed_postmortem_keeps_its_deadline(resolved, weekdays, staff):
    incident = resolved()
    with time_machine.travel(RESOLVED + timedelta(hours=3), tick=False):
        services.postmortem_save(
            incident=incident, by=staff, summary="Disk full", root_cause="No disk alert"
        )
        services.postmortem_complete(incident=incident, by=staff)
    before = dates(incident)
    assert before == (DUE_24_7, None, 0)
    edit_severity(incident, weekdays, staff, RESOLVED + timedelta(hours=4))
    incident.refresh_from_db()
    assert incident.severity == weekdays
    assert dates(incident) == before


def test_hours_do_not_depend_on_the_calendar_and_an_open_incident_has_nothing_to_re_date(
    resolved, service, weekdays, staff
):
    incident = resolved(due="48h")
    before = dates(incident)
    assert before == (RESOLVED + timedelta(hours=48), RESOLVED + timedelta(hours=24), 0)
    edit_severity(incident, weekdays, staff, RESOLVED + timedelta(hours=1))
    assert dates(incident) == before

    with time_machine.travel(RESOLVED, tick=False):
        still_open = services.incident_open(
            service=service, severity="P0", title="Another", by=staff
        )
    edit_severity(still_open, weekdays, staff, RESOLVED + timedelta(hours=1))
    assert dates(still_open) == (None, None, 0)
