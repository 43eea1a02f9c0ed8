"""``POST /hooks/alerts/<service-slug>/<name>/``: monitoring's way in (docs/alerts.md).

Order matters: the hook is found (404), the size checked (413), the request authenticated
against the raw body (401: nothing read, nothing stored), then the JSON read (400: nothing
stored), then one transaction records it (``alerts_receive``). A cloudwatch hook is the
exception: SNS authenticates a message by a signature inside its JSON (``alerts.sns``), so the
JSON is read to authenticate it — still 401 and nothing stored when that fails.
"""

import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import sns
from .auth import authenticate
from .models import AlertHook
from .services import alerts_receive, sns_subscription_receive
from .sources import PayloadInvalid, parse

logger = logging.getLogger(__name__)


def _answer(code, **data):
    return JsonResponse(data, status=code)


@csrf_exempt
@require_POST
def receive(request, service_slug, name):
    hook = (
        AlertHook.objects.select_related("service", "severity")
        .filter(service__slug=service_slug, name=name, retired_at__isnull=True)
        .first()
    )
    if hook is None:
        return _answer(404, error="no such alert hook")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _answer(400, error="bad Content-Length")
    if length > settings.ALERTS_MAX_BYTES:
        return _answer(413, error="payload too large")
    body = request.body
    if len(body) > settings.ALERTS_MAX_BYTES:
        return _answer(413, error="payload too large")
    if hook.source == "cloudwatch":
        return _sns(hook, body)
    if not authenticate(hook, request, body):
        response = _answer(401, error="unauthenticated")
        if hook.source != "generic":
            response["WWW-Authenticate"] = 'Bearer realm="alerts"'
        return response
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _answer(400, error="the body is not JSON")
    try:
        received = parse(hook.source, data)
    except PayloadInvalid as exc:
        return _answer(400, error=str(exc))
    return _record(hook, received)


def _record(hook, received):
    if received is None:
        return _answer(200, status="ignored")
    group = alerts_receive(hook=hook, received=received)
    return _answer(
        200,
        status="accepted",
        incident=group.incident.number if group.incident_id else None,
        alerts=len(received.events),
    )


def _sns(hook, body):
    """CloudWatch via SNS: the message's own signature and topic authenticate it
    (``alerts.sns``), so the JSON is read first; anything unproven is 401, nothing stored."""
    try:
        message = sns.verified(hook, body, now=timezone.now())
    except sns.Refused as exc:
        logger.info("SNS message to %s refused: %s", hook, exc)
        return _answer(401, error="unauthenticated")
    if message["Type"] != "Notification":
        row = sns_subscription_receive(hook=hook, message=message)
        confirmed = row.confirmed_at is not None
        return _answer(200, status="confirmed" if confirmed else "recorded")
    try:
        received = parse(hook.source, message)
    except PayloadInvalid as exc:
        return _answer(400, error=str(exc))
    return _record(hook, received)
