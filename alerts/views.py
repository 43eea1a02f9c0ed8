"""``POST /hooks/alerts/<service-slug>/<name>/``: monitoring's way in (docs/alerts.md).

Order matters: the hook is found (404), the size checked (413), the request authenticated
against the raw body (401: nothing read, nothing stored), then the JSON read (400: nothing
stored), then one transaction records it (``alerts_receive``).
"""

import json

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .auth import authenticate
from .models import AlertHook
from .services import alerts_receive
from .sources import PayloadInvalid, parse


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
    if received is None:
        return _answer(200, status="ignored")
    group = alerts_receive(hook=hook, received=received)
    return _answer(
        200,
        status="accepted",
        incident=group.incident.number if group.incident_id else None,
        alerts=len(received.events),
    )
