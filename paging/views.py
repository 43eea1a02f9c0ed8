"""The on-call email's acknowledge link: GET shows the page and a button, POST acknowledges;
and PagerDuty's webhook, which acknowledges too (``pagerduty_webhook``).

The signed token in the URL is the authority (like an unsubscribe link: the on-call person may
read the email on a phone that is not signed in); a GET changes nothing, so a mail scanner that
follows links acknowledges nothing. A forged or mangled token is a 404.
"""

import hashlib
import json

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from .models import Destination, Kind, OnCallPage
from .oncall import on_call_page_acknowledge, page_for_token
from .webhooks import pagerduty_event_receive, webhook_authenticate

# PagerDuty's events are a few kilobytes; nothing larger is read.
WEBHOOK_MAX_BYTES = 256 * 1024


@require_http_methods(["GET", "POST"])
def acknowledge(request, token):
    page, recipient = page_for_token(token)
    if page is None:
        raise Http404("No such page.")
    if request.method == "POST":
        # The link acts for the person it was sent to (a signed-in staff member for themself).
        user = request.user if request.user.is_authenticated and request.user.is_staff else None
        on_call_page_acknowledge(page=page, by=user or recipient, via=OnCallPage.Via.LINK)
        return redirect(request.path)
    return render(request, "paging/acknowledge.html", {"page": page})


@csrf_exempt
@require_POST
def pagerduty_webhook(request, service_slug, name):
    """``POST /hooks/pagerduty/<service-slug>/<name>/``: PagerDuty's v3 webhook for a
    ``pagerduty`` destination naming ``webhook_secret_env`` (``webhooks``). The destination
    is found (404), the size checked (413), the signature verified against the raw body (401:
    nothing read, nothing stored), the JSON read (400), then the event recorded once."""
    destination = (
        Destination.objects.select_related("service")
        .filter(
            service__slug=service_slug,
            name=name,
            kind=Kind.PAGERDUTY,
            retired_at__isnull=True,
        )
        .exclude(webhook_secret_env="")
        .first()
    )
    if destination is None:
        return JsonResponse({"error": "no such PagerDuty webhook"}, status=404)
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return JsonResponse({"error": "bad Content-Length"}, status=400)
    if length > WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    body = request.body
    if len(body) > WEBHOOK_MAX_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    header = request.headers.get("X-PagerDuty-Signature", "")
    if not webhook_authenticate(destination=destination, body=body, header=header):
        return JsonResponse({"error": "unauthenticated"}, status=401)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "the body is not JSON"}, status=400)
    event = data.get("event") if isinstance(data, dict) else None
    if not isinstance(event, dict):
        return JsonResponse({"error": "no event object"}, status=400)
    row, created = pagerduty_event_receive(
        destination=destination, event=event, body_digest=hashlib.sha256(body).hexdigest()
    )
    return JsonResponse(
        {"status": row.outcome if created else "duplicate", "acknowledged": row.pages_acknowledged}
    )
