"""Amazon SNS messages (CloudWatch alarms): who sent them, proven by SNS's own signature.

SNS signs every message it posts (``Notification``, ``SubscriptionConfirmation``,
``UnsubscribeConfirmation``) with the key of an X.509 certificate it publishes at
``SigningCertURL``. A message is accepted only when:

- ``SigningCertURL`` is ``https://sns.<region>.amazonaws.com/…`` (``.amazonaws.com.cn`` in
  China): the certificate comes from SNS itself, never from a URL an attacker chose. The hosts
  in ``ALERTS_SNS_CERT_HOSTS`` (a setting tests use for their loopback server, not read from
  the environment) are the only exception;
- the certificate, fetched through the paging SSRF guard and cached per URL in the process
  (SNS rotates certificates by publishing a new URL), is valid now and its key verifies
  ``Signature`` over the message's canonical string: SHA1withRSA for ``SignatureVersion`` 1,
  SHA256withRSA for 2;
- ``TopicArn`` is one the hook's ``secret_env`` variable names (comma-separated): anybody can
  create a topic and subscribe our URL to it, so SNS's signature alone proves nothing about
  whose alarm it is;
- ``Timestamp`` is at most ``MAX_AGE`` old (and not from the future beyond ``SKEW``), so a
  captured message cannot be replayed days later to reopen an incident.

Anything else raises ``Refused`` (the view answers 401 and stores nothing).
"""

import base64
import binascii
import datetime as dt
import json
import os
import re
import threading
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings

from paging import transport

MAX_AGE = dt.timedelta(hours=1)
SKEW = dt.timedelta(minutes=5)
_CERT_HOST = re.compile(r"^sns\.[a-z]{2}(?:-[a-z]+)+-\d\.amazonaws\.com(?:\.cn)?$")
_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
_SIGNED_FIELDS["UnsubscribeConfirmation"] = _SIGNED_FIELDS["SubscriptionConfirmation"]
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}

# SigningCertURL → certificate. A handful of URLs in a process's life; bounded anyway.
_CERTIFICATES = {}
_CERTIFICATES_MAX = 32
_lock = threading.Lock()


class Refused(Exception):
    """Not a message from SNS for this hook's topic (the reason is for logs and tests)."""


def sns_url_allowed(url):
    """Whether ``url`` is one SNS serves (a signing certificate, a SubscribeURL)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in {name.lower() for name in settings.ALERTS_SNS_CERT_HOSTS}:
        return parts.scheme in ("https", "http")
    return parts.scheme == "https" and bool(_CERT_HOST.match(host)) and parts.port in (None, 443)


def string_to_sign(message):
    """The canonical ``Key\\nValue\\n`` string SNS signs (absent optional keys left out)."""
    fields = _SIGNED_FIELDS.get(message.get("Type"))
    if fields is None:
        raise Refused("unknown SNS message Type")
    lines = []
    for name in fields:
        value = message.get(name)
        if value is None:
            if name == "Subject":
                continue
            raise Refused(f"the SNS message has no {name}")
        if not isinstance(value, str):
            raise Refused(f"the SNS message's {name} is not text")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode()


def topics(hook):
    """The topic ARNs the hook accepts: its ``secret_env`` variable, comma-separated."""
    value = os.environ.get(hook.secret_env, "")
    return {arn.strip() for arn in value.split(",") if arn.strip()}


def verified(hook, body, *, now):
    """The decoded SNS message in ``body`` when it is SNS's, signed, recent and for one of the
    hook's topics; ``Refused`` otherwise."""
    accepted = topics(hook)
    if not accepted:
        raise Refused("the hook's topic variable is unset")
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused("the body is not JSON") from None
    if not isinstance(message, dict):
        raise Refused("the body is not an SNS message")
    if message.get("TopicArn") not in accepted:
        raise Refused("the message is not from the hook's topic")
    signed = string_to_sign(message)
    algorithm = _HASHES.get(str(message.get("SignatureVersion", "")))
    if algorithm is None:
        raise Refused("unsupported SignatureVersion")
    _check_time(message.get("Timestamp"), now)
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except (binascii.Error, ValueError):
        raise Refused("the Signature is not base64") from None
    certificate = certificate_for(message.get("SigningCertURL") or "", now=now)
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused("the signing certificate's key is not RSA")
    try:
        key.verify(signature, signed, padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise Refused("the signature does not match") from None
    return message


def _check_time(value, now):
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Refused("the Timestamp is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise Refused("the Timestamp has no zone")
    if when < now - MAX_AGE or when > now + SKEW:
        raise Refused("the Timestamp is too far from the clock (a replay?)")


def certificate_for(url, *, now):
    """The certificate at ``url`` (an SNS URL), fetched once per process and URL."""
    if not sns_url_allowed(url):
        raise Refused("SigningCertURL is not an SNS certificate URL")
    with _lock:
        certificate = _CERTIFICATES.get(url)
    if certificate is None:
        try:
            answer = transport.get(url)
        except (transport.Refused, transport.Unreachable) as exc:
            raise Refused(f"the signing certificate could not be fetched: {exc}") from None
        if answer.status != 200:
            raise Refused(f"the signing certificate could not be fetched: HTTP {answer.status}")
        try:
            certificate = x509.load_pem_x509_certificate(answer.body)
        except ValueError:
            raise Refused("the signing certificate is not a PEM certificate") from None
        with _lock:
            if len(_CERTIFICATES) >= _CERTIFICATES_MAX:
                _CERTIFICATES.clear()
            _CERTIFICATES[url] = certificate
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise Refused("the signing certificate is not valid now")
    return certificate


def forget_certificates():
    """Empty the cache (tests)."""
    with _lock:
        _CERTIFICATES.clear()
