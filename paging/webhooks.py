"""PagerDuty's acknowledgement comes back: its v3 webhooks, verified and acted on once.

A plan's ``pagerduty`` destination may name ``webhook_secret_env``: the variable holding the
signing secret of a PagerDuty webhook subscription (v3) that posts to
``/hooks/pagerduty/<service>/<name>/``. PagerDuty signs the raw body: ``X-PagerDuty-Signature``
is ``v1=<hex HMAC-SHA256 of the body, keyed with the secret>``, several comma-separated while it
rotates its secret; one must match (``signature_valid``, constant-time).

An event is recorded once per PagerDuty event id (``PagerDutyWebhookEvent``; PagerDuty retries a
delivery it got no 2xx for, with the same id). ``incident.acknowledged`` — and
``incident.resolved``, which means someone took it too — acknowledge the service's on-call
pages about the incident's ``incident_key`` (the ``dedup_key`` we sent: ``ticket-<id>``,
``incident-<id>``) through ``oncall.on_call_page_acknowledge``, exactly as the email link and
the admin do, so the secondary is not called. A resolve in PagerDuty resolves nothing here (the
ticket or incident is staff's to close). Other event types, and a key we have no on-call page
for, are recorded and answered 2xx: PagerDuty would otherwise retry for two days and then
disable the subscription.
"""

import datetime as dt
import hashlib
import hmac
import logging
import os

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import OnCallPage, PagerDutyWebhookEvent
from .oncall import on_call_pages_acknowledge_for

logger = logging.getLogger(__name__)

Outcome = PagerDutyWebhookEvent.Outcome

# Event types that mean a person took the incident in PagerDuty.
TAKEN = ("incident.acknowledged", "incident.resolved")


def webhook_configured(destination):
    """Whether the destination's webhook secret variable is named and set (never shown)."""
    return bool(destination.webhook_secret_env and os.environ.get(destination.webhook_secret_env))


def signature_valid(*, secret, body, header):
    """Whether one of the ``v1=`` signatures of ``header`` is the HMAC-SHA256 of ``body``."""
    if not secret or not header:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    matched = False
    for part in header.split(","):
        version, _, value = part.strip().partition("=")
        if version == "v1" and hmac.compare_digest(expected, value.strip().lower()):
            matched = True
    return matched


def webhook_authenticate(*, destination, body, header):
    """The request's signature checked with the secret read now from the environment; an
    unset variable refuses everything."""
    secret = os.environ.get(destination.webhook_secret_env, "").strip() if destination else ""
    return signature_valid(secret=secret, body=body, header=header)


def _text(value, limit):
    return value[:limit] if isinstance(value, str) else ""


@transaction.atomic
def pagerduty_event_receive(*, destination, event, body_digest, now=None):
    """Record and act on one verified event (``event``: the payload's ``event`` object).
    Returns ``(row, created)``: a redelivered event id returns the first row, changing nothing.
    """
    now = now or timezone.now()
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    agent = event.get("agent") if isinstance(event.get("agent"), dict) else {}
    event_type = _text(event.get("event_type"), 60)
    # An incident's own data has the key; incident_note and the like only reference it.
    incident_key = _text(data.get("incident_key"), 255) if data.get("type") == "incident" else ""
    event_id = _text(event.get("id"), 100) or f"sha256:{body_digest[:90]}"
    try:
        occurred = parse_datetime(event.get("occurred_at") or "")
    except (TypeError, ValueError):  # not a string, or a well-formed but impossible date
        occurred = None
    if occurred is not None and timezone.is_naive(occurred):
        occurred = timezone.make_aware(occurred, dt.UTC)
    try:
        with transaction.atomic():
            row = PagerDutyWebhookEvent.objects.create(
                destination=destination,
                event_id=event_id,
                event_type=event_type,
                incident_key=incident_key,
                incident_id=_text(data.get("id"), 50),
                incident_url=_text(data.get("html_url"), 500),
                agent=_text(agent.get("summary"), 200),
                occurred_at=occurred,
                outcome=Outcome.IGNORED,
                received_at=now,
            )
    except IntegrityError:
        return PagerDutyWebhookEvent.objects.get(destination=destination, event_id=event_id), False
    if event_type not in TAKEN:
        return row, True
    taken, found = (0, 0)
    if incident_key:
        taken, found = on_call_pages_acknowledge_for(
            service_id=destination.service_id,
            dedup_key=incident_key,
            by=None,
            via=OnCallPage.Via.PAGERDUTY,
            now=now,
        )
    if not found:
        row.outcome = Outcome.UNKNOWN_KEY
        logger.info(
            "PagerDuty %s for %s on %s: no on-call page has this key",
            event_type,
            incident_key or "(no incident_key)",
            destination,
        )
    else:
        row.outcome = Outcome.ACKNOWLEDGED if taken else Outcome.ALREADY
    row.pages_acknowledged = taken
    row.save(update_fields=["outcome", "pages_acknowledged"])
    return row, True
