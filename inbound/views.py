"""``POST /inbound/email/``: a mail provider's inbound route hands us one raw message."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from .models import InboundMessage
from .reading import read_capped
from .services import inbound_receive

logger = logging.getLogger(__name__)


@csrf_exempt  # a machine posting with a bearer token, not a browser with a session
def receive_email(request):
    """One raw RFC 5322 message (``Content-Type: message/rfc822``), bearer token
    ``INBOUND_EMAIL_TOKEN``. 404 while the token is unset (the endpoint is off); 401 without
    the right token, before anything is read or stored; 2xx only once the message is stored
    (503 when it could not be: the provider delivers it again)."""
    token = settings.INBOUND_EMAIL_TOKEN
    if not token:
        raise Http404("Inbound email over HTTP is not enabled.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(given.strip(), token):
        response = HttpResponse("A valid bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="inbound-email"'
        return response
    if request.method != "POST":
        return HttpResponse("POST one message.\n", status=405, headers={"Allow": "POST"})
    if request.content_type != "message/rfc822":
        return HttpResponse("Content-Type must be message/rfc822.\n", status=415)
    raw, size = read_capped(request, limit=settings.INBOUND_EMAIL_MAX_BYTES)
    if not raw.strip():
        return HttpResponse("The message is empty.\n", status=400)
    try:
        receipt = inbound_receive(raw=raw, via=InboundMessage.Via.HTTP, size=size)
    except DatabaseError:
        logger.exception("Could not store an inbound message")
        return HttpResponse("Could not store the message; try again.\n", status=503)
    message = receipt.message
    return JsonResponse(
        {
            "id": message.pk,
            "outcome": message.outcome,
            "reason": message.reason,
            "duplicate": receipt.duplicate,
        },
        status=200 if receipt.duplicate else 201,
    )
