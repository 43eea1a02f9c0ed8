"""Updates on an incident: public ones go to /status/ and the service's subscribers, once each;
internal notes stay in admin."""

import logging
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import IncidentUpdate
from .common import lock_incident, require_staff

logger = logging.getLogger(__name__)

MAX_UPDATE_LENGTH = 20_000


@transaction.atomic
def incident_post_update(*, incident, body, public, by):
    """Post an update. A public one shows on /status/ and is emailed to the service's
    subscribers and customers, once each; an internal one is for staff only and goes nowhere.

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
    now = timezone.now()
    update = IncidentUpdate.objects.create(
        incident=incident,
        body=body,
        public=bool(public),
        author=by,
        created_at=now,
        emails_pending=bool(public),
    )
    incident.updated_at = now
    incident.save(update_fields=["updated_at"])
    if update.public:
        transaction.on_commit(partial(_enqueue_emails, update.pk), robust=True)
    return update


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
