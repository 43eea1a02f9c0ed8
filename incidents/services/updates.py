"""Updates on an incident: public ones go to /status/ and the service's subscribers, once each;
internal notes stay in admin."""

import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import IncidentUpdate, UpdateStatus
from .common import lock_incident, require_staff
from .pages import incident_page

logger = logging.getLogger(__name__)

MAX_UPDATE_LENGTH = 20_000


@transaction.atomic
def incident_post_update(*, incident, body, public, by, status=None):
    """Post an update. A public one shows on /status/ and is emailed to the service's
    subscribers and customers, once each; an internal one is for staff only and goes nowhere.
    ``status`` (``UpdateStatus``; investigating by default) is where it says the incident
    stands. On a draft incident a public update is held: shown and sent when it is published.

    The emails are recorded in the background (``incidents.fanout``), not here: this marks the
    update as to be emailed, in this transaction (a rolled-back update sends nothing), and
    enqueues the work after commit; the beat sweep finishes it if the enqueue is lost. So the
    cost of posting does not grow with the number of subscribers.
    """
    require_staff(by)
    incident = lock_incident(incident)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write the update."})
    if len(body) > MAX_UPDATE_LENGTH:
        raise ValidationError(
            {"body": f"Keep the update to at most {MAX_UPDATE_LENGTH} characters."}
        )
    status = status or UpdateStatus.INVESTIGATING
    if status not in UpdateStatus.values:
        raise ValidationError({"status": "Choose where the incident stands."})
    now = timezone.now()
    send = bool(public) and incident.published_at is not None
    update = IncidentUpdate.objects.create(
        incident=incident,
        body=body,
        public=bool(public),
        status=status,
        author=by,
        created_at=now,
        emails_pending=send,
    )
    incident.updated_at = now
    incident.save(update_fields=["updated_at"])
    if public:
        incident_page(
            incident, "incident.updated", key=f"incident:{incident.pk}:update:{update.pk}"
        )
    if send:
        transaction.on_commit(partial(_enqueue_emails, update.pk), robust=True)
    return update


def release_held_updates(incident):
    """The locked incident was just published: mark its held public updates (posted while it
    was a draft, never emailed) to be emailed, and enqueue them after commit. Called once per
    incident (publishing twice is refused), and a held update is one with no emails started
    (``emails_pending`` false, nothing recorded, never done): so each goes out once."""
    held = list(
        IncidentUpdate.objects.filter(
            incident=incident,
            public=True,
            emails_pending=False,
            emails_done_at__isnull=True,
            emails_cursor=0,
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    if held:
        IncidentUpdate.objects.filter(pk__in=held).update(emails_pending=True)
        for update_id in held:
            transaction.on_commit(partial(_enqueue_emails, update_id), robust=True)
    return held


def _enqueue_emails(update_id):
    from ..tasks import send_incident_update

    try:
        send_incident_update.delay(update_id)
    except Exception:  # the broker is down; the update stays pending for the beat sweep
        logger.warning(
            "Could not enqueue the emails of incident update %s; the sweep will record them",
            update_id,
            exc_info=True,
        )
