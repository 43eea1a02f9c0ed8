"""``POST /hooks/alerts/<service-slug>/<name>/``: monitoring's way in (docs/alerts.md).

Order matters: the hook is found (404), the size checked (413), the request authenticated
against the raw body (401: nothing read, nothing stored), then the JSON read (400: nothing
stored), then one transaction records it (``alerts_receive``). A cloudwatch hook is the
exception: SNS authenticates a message by a signature inside its JSON (``alerts.sns``), so the
JSON is read to authenticate it — still 401 and nothing stored when that fails.

Each process keeps a copy of the hooks it served (``_kept``; never a secret: the secret is read
from the environment on every request). A delivery first goes through the kept copy;
``alerts_receive`` writes nothing unless the hook's row still authenticates as the copy did
(checked in its one statement, or by reading the row again before its transaction). Anything
else — the row changed (plan reloaded), the copy refused the request (401, 400, ignored) —
starts over from the row read fresh, as if nothing had been kept.
"""

import json
import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents.models import Incident

from . import sns
from .auth import authenticate
from .models import AlertHook
from .services import ReadHookAgain, alerts_receive, sns_subscription_receive
from .sources import PayloadInvalid, parse

logger = logging.getLogger(__name__)


def _answer(code, **data):
    return JsonResponse(data, status=code)


# (service slug, hook name) → the AlertHook last read for it, in this process.
_kept = {}


class _Retry(Exception):
    pass


@csrf_exempt
@require_POST
def receive(request, service_slug, name):
    key = (service_slug, name)
    hook = _kept.get(key)
    if hook is not None:
        try:
            return _receive(request, hook, kept=True)
        except (_Retry, ReadHookAgain):
            _kept.pop(key, None)
    hook = (
        AlertHook.objects.select_related("service", "severity")
        .filter(service__slug=service_slug, name=name, retired_at__isnull=True)
        .first()
    )
    if hook is None:
        return _answer(404, error="no such alert hook")
    if hook.source != "cloudwatch" and connection.vendor == "postgresql":
        _kept[key] = hook  # only on PostgreSQL, where the one-statement path saves the read
    return _receive(request, hook, kept=False)


def _receive(request, hook, *, kept):
    """The request for ``hook``; with a ``kept`` copy, ``_Retry`` or ``ReadHookAgain`` for
    whatever is not an accepted delivery (nothing written): the caller reads the row again."""
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
        if kept:
            raise _Retry
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
        if kept:
            raise _Retry from exc
        return _answer(400, error=str(exc))
    if received is None and kept:
        raise _Retry
    return _record(hook, received, kept=kept)


def _record(hook, received, *, kept=False):
    if received is None:
        return _answer(200, status="ignored")
    incident_id = alerts_receive(hook=hook, received=received, kept=kept)
    return _answer(
        200,
        status="accepted",
        incident=Incident(pk=incident_id).number if incident_id else None,
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
