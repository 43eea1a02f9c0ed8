"""Updates on an incident: public ones go to /status/ and the service's subscribers, once each;
internal notes stay in admin."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from maintenance.services import subscriptions_sync_members
from notifications.models import Notification
from notifications.services import notifications_insert_many

from .. import emails, selectors
from ..models import Incident, IncidentUpdate
from .common import lock_incident, require_staff

MAX_UPDATE_LENGTH = 20_000
# Outbox keys looked up per query when recording an update's emails.
_KEY_CHUNK = 5000


@transaction.atomic
def incident_post_update(*, incident, body, public, by):
    """Post an update. A public one shows on /status/ and is emailed to the service's
    subscribers and customers, once each; an internal one is for staff only and goes nowhere."""
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
        incident=incident, body=body, public=bool(public), author=by, created_at=now
    )
    incident.updated_at = now
    incident.save(update_fields=["updated_at"])
    if update.public:
        incident_update_notify(update=update)
    return update


@transaction.atomic
def incident_update_notify(*, update):
    """Record the emails of a public update for every current recipient who has none yet.

    Idempotent: run again, it records only for recipients added since (keys per update and
    address). An internal note records nothing, ever. Returns how many emails were recorded.
    """
    if not update.public:
        return 0
    incident = Incident.objects.select_related("service", "severity").get(pk=update.incident_id)
    update.incident = incident
    subscriptions_sync_members(service_id=incident.service_id)
    recipients = selectors.update_recipients(service_id=incident.service_id)
    prefix = f"incident-update:{update.pk}"
    fresh = []
    for start in range(0, len(recipients), _KEY_CHUNK):
        chunk = recipients[start : start + _KEY_CHUNK]
        keys = {emails.outbox_key(prefix, address): (address, token) for address, token in chunk}
        recorded = set(
            Notification.objects.filter(key__in=list(keys)).values_list("key", flat=True)
        )
        fresh += [pair for key, pair in keys.items() if key not in recorded]
    if not fresh:
        return 0
    return notifications_insert_many(emails=emails.update_emails(update, fresh))
