"""The reminder sweep under races: each (incident, deadline, stage, recipient) recorded once.

Threads need PostgreSQL (``FOR UPDATE SKIP LOCKED`` on the incidents, ``ON CONFLICT DO
NOTHING`` on the outbox keys).
"""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine

from incidents import reminders, services
from incidents.models import Incident, Postmortem
from notifications.models import Notification
from tests import factories
from tests.concurrency import run_together
from tests.incidents.conftest import NOW
from tests.incidents.factories import IncidentPolicyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

INCIDENTS = 60
H = timedelta(hours=1)


@pytest.fixture
def many_resolved(service):
    """60 incidents of one service resolved at NOW, each owned by its own staff member, and a
    two-role management chain."""
    IncidentPolicyFactory(service=service)
    severity = factories.PriorityFactory(service=service, code="P0")
    factories.EscalationPolicyFactory(
        service=service, management_chain=["Tech Lead", "Sponsor"], management_interval="1h"
    )
    factories.ManagementContactFactory(service=service, role="Tech Lead", email="lead@example.com")
    factories.ManagementContactFactory(service=service, role="Sponsor", email="sponsor@example.com")
    with time_machine.travel(NOW, tick=False):
        for n in range(INCIDENTS):
            owner = factories.StaffFactory(email=f"owner{n}@example.com")
            incident = services.incident_open(
                service=service, severity=severity, title=f"Outage {n}", by=owner
            )
            services.incident_resolve(incident=incident, by=owner)
    return service


def stages():
    keys = Notification.objects.filter(key__contains=":postmortem:").values_list("key", flat=True)
    return Counter(key.split(":")[4] for key in keys)


def assert_once_each():
    keys = list(Notification.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_sweeps_record_each_reminder_once(many_resolved, workers):
    """2 or 4 sweeps at once, in small batches, at half-time: 60 owners reminded, each once,
    and the sweeps' counts add up to 60."""
    with time_machine.travel(NOW + 24 * H, tick=False):
        results = run_together(
            *[lambda: reminders.postmortem_reminders_send_due(batch_size=7) for _ in range(workers)]
        )
    assert sum(result.get("halftime", 0) for result in results) == INCIDENTS
    assert stages() == {"halftime": INCIDENTS}
    assert_once_each()


def test_concurrent_late_sweeps_send_the_deadline_and_escalations_once(many_resolved):
    """Racing sweeps that both start late (past the second role's time): per incident one
    deadline reminder and one email per role, no half-time one."""
    with time_machine.travel(NOW + 51 * H, tick=False):
        run_together(
            *[lambda: reminders.postmortem_reminders_send_due(batch_size=5) for _ in range(3)]
        )
        run_together(
            *[lambda: reminders.postmortem_reminders_send_due(batch_size=5) for _ in range(2)]
        )
    assert stages() == {
        "deadline": INCIDENTS,
        "management-1": INCIDENTS,
        "management-2": INCIDENTS,
    }
    assert_once_each()
    assert not Incident.objects.filter(postmortem_reminder_at__isnull=False).exists()


def test_completing_while_sweeping_never_reminds_after_completion(many_resolved):
    """Staff complete every post-mortem while sweeps run at the deadline: each incident gets
    at most its deadline reminder, and none once its post-mortem is completed.

    The clock ticks during the race, so the order shows: a reminder was recorded before the
    completion of its post-mortem (the sweep held the row, completing waited for it), never
    after."""
    incidents = list(Incident.objects.select_related("owner").order_by("pk"))
    with time_machine.travel(NOW + 2 * H, tick=False):
        for incident in incidents:
            services.postmortem_save(
                incident=incident, by=incident.owner, summary="S", root_cause="R"
            )

    def complete(some):
        for incident in some:
            services.postmortem_complete(incident=incident, by=incident.owner)

    with time_machine.travel(NOW + 48 * H, tick=True):
        # A third completed before any sweep starts (the sweeps read them first, by id): those
        # must get nothing; the rest race the sweeps.
        complete(incidents[: INCIDENTS // 3])
        run_together(
            lambda: complete(incidents[INCIDENTS // 3 :]),
            lambda: reminders.postmortem_reminders_send_due(batch_size=5),
            lambda: reminders.postmortem_reminders_send_due(batch_size=5),
        )
    with time_machine.travel(NOW + 60 * H, tick=False):
        reminders.postmortem_reminders_send_due()
    assert set(stages()) <= {"deadline"}
    assert_once_each()
    assert not Incident.objects.filter(postmortem_reminder_at__isnull=False).exists()
    assert stages()["deadline"] <= INCIDENTS - INCIDENTS // 3
    completed = dict(Postmortem.objects.values_list("incident_id", "completed_at"))
    for key, recorded in Notification.objects.values_list("key", "created_at"):
        incident_id = int(key.split(":")[1])
        assert recorded <= completed[incident_id], f"{key} recorded after completion"


def test_a_crash_in_the_second_batch_keeps_the_first_and_the_next_run_finishes(
    many_resolved, monkeypatch
):
    """Killed in its second batch: the first batch's reminders are committed, the second's
    rolled back whole; the next run records the rest, and nobody is reminded twice."""
    from tests.notifications.backends import WorkerKilled

    real = reminders.notifications_create_many
    batches = []

    def dies_in_the_second_batch(**kwargs):
        batches.append(len(kwargs["emails"]))
        real(**kwargs)
        if len(batches) == 2:
            raise WorkerKilled("killed before the second batch committed")

    monkeypatch.setattr(reminders, "notifications_create_many", dies_in_the_second_batch)
    with time_machine.travel(NOW + 24 * H, tick=False):
        with pytest.raises(WorkerKilled):
            reminders.postmortem_reminders_send_due(batch_size=10)
        assert stages() == {"halftime": 10}
        assert Incident.objects.filter(postmortem_reminders_done=1).count() == 10
        monkeypatch.setattr(reminders, "notifications_create_many", real)
        reminders.postmortem_reminders_send_due(batch_size=10)
        reminders.postmortem_reminders_send_due(batch_size=10)
    assert stages() == {"halftime": INCIDENTS}
    assert_once_each()
