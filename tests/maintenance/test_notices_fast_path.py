"""Recording a notice's batch on PostgreSQL (deliveries: one ``INSERT … SELECT FROM unnest``
bound server-side, keys made by the database; outbox rows through ``notifications_insert_many``)
writes exactly the rows its portable twin (``bulk_create``) writes, on the same scenario."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from maintenance import notices
from maintenance.models import NoticeDelivery, NoticeRound
from maintenance.selectors import policies_by_service
from notifications import services as outbox
from notifications.models import Notification, NotificationBody
from tests.core.fast_paths import portable, rows
from tests.maintenance.conftest import SUNDAY, subscribe_customers

pytestmark = pytest.mark.django_db


def recorded():
    return (
        rows(NoticeDelivery),
        # Each run stores its own shared body (another id); its content is compared instead.
        rows(Notification, exclude=("id", "body_id")),
        rows(NotificationBody, exclude=("id",)),
        rows(NoticeRound, exclude=("id",)),
    )


@pytest.mark.postgres
def test_recording_writes_the_rows_the_portable_path_writes(clock, weekly, service):
    """Three batches of a round and one subscriber recorded before (kept as it was): the same
    deliveries, outbox rows, shared bodies and round either way."""
    subscribers = subscribe_customers(service, 7)
    due = SUNDAY - timedelta(hours=48)
    clock.move_to(due)
    notices.rounds_create_due(now=due, policies=policies_by_service())
    NoticeDelivery.objects.create(
        round=NoticeRound.objects.get(), subscription=subscribers[-1], notification_key="earlier"
    )
    before = transaction.savepoint()
    with CaptureQueriesContext(connection) as fast_queries:
        assert notices.notices_send_due(batch_size=3) == 7
    fast = recorded()
    transaction.savepoint_rollback(before)
    with CaptureQueriesContext(connection) as portable_queries, portable(notices, outbox):
        assert notices.notices_send_due(batch_size=3) == 7
    assert any("unnest" in q["sql"] and "noticedelivery" in q["sql"] for q in fast_queries)
    assert not any("unnest" in q["sql"] for q in portable_queries)
    assert len(fast[0]) == 7  # six new, the earlier one kept as it was
    assert any(("notification_key", "'earlier'") in row for row in fast[0])
    assert recorded() == fast
