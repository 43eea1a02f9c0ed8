"""Who may post to a hook: each source authenticated as it can be, against the hook's secret.

The secret is read from the environment variable the plan names (``secret_env``) on every
request; unset, the hook refuses everything. Comparisons are constant-time.

- alertmanager, grafana, uptime-kuma: ``Authorization: Bearer <secret>``, or HTTP basic auth
  whose password is the secret (any user name) — Alertmanager's ``http_config``, Grafana's
  webhook contact point and Uptime Kuma's custom headers can each send one of these;
- generic: ``X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` with
  ``X-Timestamp: <unix seconds>`` within ``ALERTS_SIGNATURE_TOLERANCE`` of our clock, so a
  captured request cannot be replayed later (the timestamp is signed with the body).
"""

import base64
import binascii
import hashlib
import hmac
import os
import time

from django.conf import settings


def authenticate(hook, request, body, *, now=None):
    """True when ``request`` (with raw ``body``) proves it knows ``hook``'s secret."""
    secret = os.environ.get(hook.secret_env, "")
    if not secret:
        return False
    if hook.source == "generic":
        return _signed(secret, request, body, now=time.time() if now is None else now)
    return _bearer_or_basic(secret, request.headers.get("Authorization", ""))


def _equal(given, expected):
    return hmac.compare_digest(given.encode(), expected.encode())


def _bearer_or_basic(secret, header):
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return _equal(value, secret)
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        _, colon, password = decoded.partition(":")
        return bool(colon) and _equal(password, secret)
    return False


def generic_signature(secret, timestamp, body):
    """What a sender puts in ``X-Signature`` (docs/alerts.md has a shell example)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _signed(secret, request, body, *, now):
    stamp = request.headers.get("X-Timestamp", "").strip()
    given = request.headers.get("X-Signature", "").strip()
    if not stamp.isdigit() or not given.startswith("sha256="):
        return False
    if abs(now - int(stamp)) > settings.ALERTS_SIGNATURE_TOLERANCE:
        return False
    return _equal(given, generic_signature(secret, stamp, body))
