"""A public update's emails, recorded in the background: each subscriber's once, whatever runs.

Posting a public update (``services.incident_post_update``) only marks it ``emails_pending``,
in the staff member's transaction, and enqueues ``incidents.tasks.send_incident_update`` after
commit: the admin save costs the same with 10 subscribers or 100,000. The work is done here,
as the maintenance notices do theirs (``maintenance.notices``):

1. **Batches.** ``update_emails_record`` works through the service's subscribers by
   subscription id, one transaction per batch: lock the update row (``FOR UPDATE SKIP
   LOCKED``: an update another worker is on is left to it, not waited for), read the next
   ``batch_size`` subscribers after the update's ``emails_cursor``, record one outbox row per
   new address (key ``incident-update:<update>:<address>``, ``ON CONFLICT DO NOTHING``), move
   the cursor, and clear ``emails_pending`` after the last batch. It all commits together, so
   a worker killed half-way leaves every committed batch recorded and the rest to the next
   run, which starts at the committed cursor: nobody is recorded twice, nobody is left out.
2. **Sweep.** ``update_emails_send_pending`` (beat, every minute: ``incidents.tasks.
   send_incident_updates``) finds the updates still pending through a partial index — an
   enqueue lost with the broker down, a worker that died — and finishes them.

The content is rendered once per update, stored once (``NotificationBody``) and shared by every
batch: a title edited while the emails go out does not split them into two versions. An address
held by two subscriptions (a customer who also subscribed by email) gets one email, the first
subscription's unsubscribe link. Subscribers who join while an update is being sent get it if
the cursor has not passed them; once it is done, it is done. A late run still sends: each
update is news of its own and already on /status/. Delivery is the outbox's job.

A draft incident's public updates are held (``emails_pending`` false) and never read here;
publishing the incident marks them pending, once (``services.updates.release_held_updates``).
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from maintenance.selectors import subscribers_for_notice
from maintenance.subscriptions import subscriptions_sync_members
from notifications.models import Notification
from notifications.services import notifications_insert_many

from . import emails
from .models import IncidentUpdate

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


def update_emails_send_pending(*, batch_size=BATCH_SIZE):
    """Record the emails of every public update not yet fully recorded, oldest first.

    Returns how many emails this run recorded.
    """
    pending = IncidentUpdate.objects.filter(
        emails_pending=True, incident__published_at__isnull=False
    ).order_by("pk")
    recorded = 0
    for update_id in list(pending.values_list("pk", flat=True)):
        recorded += update_emails_record(update_id=update_id, batch_size=batch_size)
    if recorded:
        logger.info("Incident updates: %s emails recorded", recorded)
    return recorded


def update_emails_record(*, update_id, batch_size=BATCH_SIZE):
    """Record a pending update's emails, a batch per transaction, until it is done.

    Returns how many emails this call recorded; nothing for an update that is done, internal,
    or being worked on by another worker right now (which finishes it).
    """
    recorded = 0
    while True:
        with transaction.atomic():
            update = (
                IncidentUpdate.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("incident__service", "incident__severity", "emails_body")
                # A draft's updates are held (never pending); the check keeps it so even if
                # one were marked: nothing of a draft reaches a subscriber.
                .filter(pk=update_id, emails_pending=True, incident__published_at__isnull=False)
                .first()
            )
            if update is None:
                return recorded
            count, finished = _record_batch(update, batch_size)
            recorded += count
        if finished:
            return recorded


def _record_batch(update, batch_size):
    """One batch in a fixed number of queries: subscribers, keys already taken, which are
    customers, one INSERT, one UPDATE of the cursor (and, the first time, the members' sync
    and the content)."""
    service_id = update.incident.service_id
    if update.emails_cursor == 0:
        # Customers made members some other way than customer_add_service are subscribed
        # by default; as the maintenance notices do, before the first batch reads.
        subscriptions_sync_members(service_id=service_id)
    page = subscribers_for_notice(
        service_id=service_id, after=update.emails_cursor, limit=batch_size, topic="incidents"
    )
    fields = ["emails_cursor", "emails_recorded"]
    fresh = _not_yet_recorded(update, page)
    if fresh:
        if update.emails_body is None:
            update.emails_body = emails.update_body(update)
            fields.append("emails_body")
        notifications_insert_many(emails=emails.update_emails(update, update.emails_body, fresh))
    if page:
        update.emails_cursor = page[-1][0]
    update.emails_recorded = F("emails_recorded") + len(fresh)
    finished = len(page) < batch_size
    if finished:
        update.emails_pending = False
        update.emails_done_at = timezone.now()
        fields += ["emails_pending", "emails_done_at"]
    update.save(update_fields=fields)
    return len(fresh), finished


def _not_yet_recorded(update, page):
    """``[(address, token, customer)]`` of the page's addresses with no email of this update
    yet: each address once, whichever batch (or earlier subscription) it was first seen in.
    ``customer`` says the subscription is a customer's (made with their membership, which
    they may never have asked for) rather than one an address signed up for: the email says
    which (the page's rows carry it)."""
    by_key = {}
    for _pk, address, token, customer in page:
        address = (address or "").strip()
        if address:
            by_key.setdefault(emails.update_key(update.pk, address), (address, token, customer))
    if not by_key:
        return []
    # Only this worker writes this update's keys (it holds the row lock), so the count it
    # stores is exact; ON CONFLICT DO NOTHING in the INSERT stays the guarantee regardless.
    taken = set(Notification.objects.filter(key__in=list(by_key)).values_list("key", flat=True))
    return [pair for key, pair in by_key.items() if key not in taken]
