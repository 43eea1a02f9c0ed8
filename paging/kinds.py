"""What each kind of destination is sent: URL, headers and body for one delivery.

Pure functions of the delivery's payload, the secret and the clock (no ORM, no network):

- ``pagerduty``: Events API v2, ``trigger`` or ``resolve`` with the payload's ``dedup_key``
  (one per incident or ticket), so a resolve closes the page its trigger opened;
- ``slack``: an incoming webhook, a Block Kit message with a link;
- ``teams``: a Workflows webhook, an Adaptive Card with a link;
- ``webhook``: JSON signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, secret
  ``whsec_<base64>``).
"""

import base64
import datetime as dt
import hashlib
import hmac
import json

from django.conf import settings

# PagerDuty's severities; a payload's ``urgency`` maps onto them.
PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")


class SecretInvalid(Exception):
    """The environment variable's value cannot be used (its value is never in the message)."""


def build(*, kind, payload, secret, url, message_id, timestamp):
    """``(url, headers, body bytes)`` of one attempt."""
    builder = {
        "pagerduty": _pagerduty,
        "slack": _slack,
        "teams": _teams,
        "webhook": _webhook,
    }[kind]
    return builder(
        payload=payload, secret=secret, url=url, message_id=message_id, timestamp=timestamp
    )


def _json(data):
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


_JSON_HEADERS = {"Content-Type": "application/json", "User-Agent": "support-portal-paging/1"}


def _pagerduty(*, payload, secret, url, message_id, timestamp):
    action = payload.get("action", "trigger")
    body = {
        "routing_key": secret,
        "event_action": action,
        "dedup_key": payload["dedup_key"],
    }
    if action == "trigger":
        severity = payload.get("urgency", "critical")
        body["payload"] = {
            "summary": payload["title"][:1024],
            "source": payload.get("service", "support-portal"),
            "severity": severity if severity in PAGERDUTY_SEVERITIES else "critical",
            "custom_details": {
                key: payload[key] for key in ("event", "priority", "tier") if payload.get(key)
            },
        }
        if payload.get("url"):
            body["links"] = [{"href": payload["url"], "text": payload.get("label", "Open")}]
    return settings.PAGING_PAGERDUTY_URL, dict(_JSON_HEADERS), _json(body)


def _text(payload):
    parts = [payload["title"]]
    if payload.get("priority"):
        parts.append(f"({payload['priority']})")
    return " ".join(parts)


def _slack(*, payload, secret, url, message_id, timestamp):
    text = _text(payload)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(text)}*"}}]
    if payload.get("summary"):
        blocks.append(
            {"type": "section", "text": {"type": "plain_text", "text": payload["summary"][:2900]}}
        )
    if payload.get("url"):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": payload.get("label", "Open")},
                        "url": payload["url"],
                    }
                ],
            }
        )
    return secret, dict(_JSON_HEADERS), _json({"text": text, "blocks": blocks})


def _escape(text):
    # Slack mrkdwn: these three are control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams(*, payload, secret, url, message_id, timestamp):
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": _text(payload), "weight": "Bolder", "wrap": True},
        ],
    }
    if payload.get("summary"):
        card["body"].append({"type": "TextBlock", "text": payload["summary"], "wrap": True})
    if payload.get("url"):
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": payload.get("label", "Open"), "url": payload["url"]}
        ]
    message = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    return secret, dict(_JSON_HEADERS), _json(message)


def webhook_secret_bytes(secret):
    """The key of a ``whsec_<base64>`` secret (the prefix is optional, as in the spec's libs)."""
    value = secret.strip()
    if value.startswith("whsec_"):
        value = value[len("whsec_") :]
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        raise SecretInvalid("the webhook secret is not whsec_<base64>") from None
    if len(key) < 16:
        raise SecretInvalid("the webhook secret is shorter than 16 bytes")
    return key


def webhook_signature(*, secret, message_id, timestamp, body):
    """Standard Webhooks' ``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _webhook(*, payload, secret, url, message_id, timestamp):
    when = dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat().replace("+00:00", "Z")
    body = _json({"type": payload.get("event", ""), "timestamp": when, "data": payload})
    headers = dict(_JSON_HEADERS)
    headers["webhook-id"] = message_id
    headers["webhook-timestamp"] = str(timestamp)
    headers["webhook-signature"] = webhook_signature(
        secret=secret, message_id=message_id, timestamp=timestamp, body=body
    )
    return url, headers, body
