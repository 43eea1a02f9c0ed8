"""Public updates under races, on PostgreSQL: each (update, address) recorded once.

Recording an update's emails again is how a subscriber added since is caught up; two such
runs at once, or two staff posting at once, must not email anyone twice (``ON CONFLICT DO
NOTHING`` on the outbox keys).
"""

from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine

from incidents import services
from maintenance.models import Subscription
from notifications.models import Notification
from tests import factories
from tests.concurrency import run_together
from tests.incidents.conftest import NOW
from tests.incidents.factories import IncidentPolicyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CONFIRMED = datetime(2026, 12, 1, tzinfo=UTC)
SUBSCRIBERS = 80


@pytest.fixture
def incident(service):
    IncidentPolicyFactory(service=service)
    severity = factories.PriorityFactory(service=service, code="P0")
    staff = factories.StaffFactory()
    for n in range(SUBSCRIBERS):
        Subscription.objects.create(
            service=service, email=f"s{n}@example.com", confirmed_at=CONFIRMED
        )
    with time_machine.travel(NOW, tick=False):
        return services.incident_open(service=service, severity=severity, title="Down", by=staff)


def recipients_per_update():
    keys = Notification.objects.filter(key__startswith="incident-update:")
    return Counter(key.split(":")[1] for key in keys.values_list("key", flat=True))


def test_concurrent_catch_ups_record_each_new_subscriber_once(incident):
    update = services.incident_post_update(
        incident=incident, body="Rolling back", public=True, by=incident.owner
    )
    for n in range(SUBSCRIBERS, 2 * SUBSCRIBERS):
        Subscription.objects.create(
            service=incident.service, email=f"s{n}@example.com", confirmed_at=CONFIRMED
        )
    run_together(*[lambda: services.incident_update_notify(update=update) for _ in range(3)])
    keys = list(Notification.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == 2 * SUBSCRIBERS


def test_two_staff_posting_at_once_email_each_update_to_each_subscriber_once(incident):
    other = factories.StaffFactory()
    run_together(
        lambda: services.incident_post_update(
            incident=incident, body="Looking", public=True, by=incident.owner
        ),
        lambda: services.incident_post_update(
            incident=incident, body="Found it", public=True, by=other
        ),
    )
    assert sorted(recipients_per_update().values()) == [SUBSCRIBERS, SUBSCRIBERS]
    keys = list(Notification.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys))
