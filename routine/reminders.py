"""The overdue sweep: an item not done by its due time emails its owner tier, once.

Read through the partial index of items not done and not yet reminded, so done items (years of
them) are never scanned. A batch is locked (``FOR UPDATE SKIP LOCKED``: a concurrent sweep
takes other rows), its emails are recorded in the outbox under one key per item and recipient,
and its items are marked reminded, all in one transaction: a crash half-way rolls the whole
batch back for the next run, and a key already in the outbox is never recorded twice.
"""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.roles import TOP_TIER
from notifications.services import notifications_create_many
from sla.selectors import service_tier_members

from . import emails
from .models import RoutineItem

logger = logging.getLogger(__name__)


def routine_items_remind_overdue(*, now=None, batch_size=100):
    """Record the reminder of every overdue item not yet reminded. Returns emails recorded."""
    now = now or timezone.now()
    members = {}  # (service, tier level) → its staff, read once per sweep
    recorded = 0
    while True:
        count, locked = _remind_batch(now=now, size=batch_size, members=members)
        recorded += count
        if locked < batch_size:
            return recorded


def items_to_remind(*, now):
    """Overdue, not done, not yet reminded: exactly the rows of the partial index
    ``routine_item_remind_due``, read in its order."""
    return RoutineItem.objects.filter(
        done_at__isnull=True,
        reminded_at__isnull=True,
        due_at__lte=now,
        # A task retired from the plan no longer asks for anything.
        task__retired_at__isnull=True,
    ).order_by("due_at", "pk")


@transaction.atomic
def _remind_batch(*, now, size, members):
    batch = list(
        items_to_remind(now=now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("task", "service")[:size]
    )
    outbox = []
    for item in batch:
        recipients = _recipients(item.service_id, item.tier, members)
        if not recipients:
            logger.warning("No staff to remind of overdue routine item %s (%s)", item.pk, item)
        outbox += emails.overdue_emails(item, recipients)
    if outbox:
        notifications_create_many(emails=outbox)
    if batch:
        RoutineItem.objects.filter(pk__in=[item.pk for item in batch]).update(reminded_at=now)
    return len(outbox), len(batch)


def _recipients(service_id, level, members):
    """The owner tier's staff who work the service; when that tier has nobody, the next tier
    up that has."""
    for candidate in range(level, TOP_TIER + 1):
        key = (service_id, candidate)
        if key not in members:
            members[key] = list(service_tier_members(service_id, candidate).order_by("pk"))
        if members[key]:
            return members[key]
    return []
