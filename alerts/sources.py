"""Each source's payload read into one shape: a group and the alerts in it (no ORM).

- Alertmanager (webhook v4) and Grafana alerting (its webhook follows Alertmanager's shape):
  group ``groupKey``, alerts by ``fingerprint``, ``status`` firing / resolved,
  ``truncatedAlerts`` counted;
- Uptime Kuma: group and alert are the monitor (``heartbeat.monitorID``); heartbeat
  ``status`` 0 is down (firing), 1 up (resolved); other states and the "test" message
  (no heartbeat) are ignored;
- generic: ``{"id", "group" (default: id), "status" (default firing), "title", "severity",
  "details"}``.
- cloudwatch: an SNS ``Notification`` (signature already verified, ``alerts.sns``) whose
  ``Message`` is a CloudWatch alarm state change: group and alert are the ``AlarmArn``;
  ``NewStateValue`` ALARM fires, OK resolves, INSUFFICIENT_DATA is ignored.

What is kept of a payload has every secret-looking key removed (Uptime Kuma sends the
monitor's ``basic_auth_pass``, headers, tokens …) and NUL characters dropped (PostgreSQL
cannot store them).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field

FIRING, RESOLVED = "firing", "resolved"
MAX_KEY = 255

# Key names whose values are, or may be, credentials. ``groupKey`` is Alertmanager's group
# identity, not a secret.
_SECRET_KEY = re.compile(
    r"pass|secret|token|key|auth|cookie|credential|connection|sasl|header|private|signature",
    re.IGNORECASE,
)
_KEEP = {"groupKey"}


class PayloadInvalid(ValueError):
    pass


@dataclass
class AlertEvent:
    identity: str
    status: str
    title: str
    severity_label: str = ""
    payload: dict = field(default_factory=dict)


@dataclass
class Received:
    group_key: str
    title: str
    events: list
    truncated: int = 0


def without_secrets(value):
    """``value`` with every secret-looking key removed and NUL dropped from every text."""
    if isinstance(value, dict):
        return {
            _text(key): without_secrets(item)
            for key, item in value.items()
            if key in _KEEP or not _SECRET_KEY.search(str(key))
        }
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    if isinstance(value, str):
        return _text(value)
    return value


def _text(value, limit=None):
    text = str(value).replace("\x00", "")
    return text[:limit] if limit else text


def _key(value):
    """An identity that fits its column: itself, or its SHA-256 when longer."""
    value = _text(value)
    if not value:
        raise PayloadInvalid("an alert or group identity is empty")
    return (
        value if len(value) <= MAX_KEY else "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    )


def _mapping(value, what):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadInvalid(f"{what} must be an object")
    return value


def _title(*candidates, default="Alert"):
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(_text(candidate).split())[:200]
    return default


def parse(source, data):
    """A ``Received`` for ``data`` (decoded JSON) of ``source``; None when the payload is one
    to ignore (a test message); ``PayloadInvalid`` when it is not that source's shape."""
    if not isinstance(data, dict):
        raise PayloadInvalid("the payload must be a JSON object")
    if source in ("alertmanager", "grafana"):
        return _alertmanager(data)
    if source == "uptime-kuma":
        return _uptime_kuma(data)
    if source == "generic":
        return _generic(data)
    if source == "cloudwatch":
        return _cloudwatch(data)
    raise PayloadInvalid(f"source {source!r} is not supported")


def _alertmanager(data):
    alerts = data.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadInvalid("`alerts` must be a non-empty list")
    group_labels = _mapping(data.get("groupLabels"), "groupLabels")
    group_key = data.get("groupKey") or json.dumps(group_labels, sort_keys=True)
    common = _mapping(data.get("commonLabels"), "commonLabels")
    annotations = _mapping(data.get("commonAnnotations"), "commonAnnotations")
    title = _title(
        annotations.get("summary"),
        data.get("title"),
        common.get("alertname"),
        group_labels.get("alertname"),
    )
    events = []
    for alert in alerts:
        alert = _mapping(alert, "each alert")
        labels = _mapping(alert.get("labels"), "labels")
        notes = _mapping(alert.get("annotations"), "annotations")
        status = alert.get("status")
        if status not in (FIRING, RESOLVED):
            raise PayloadInvalid("each alert's `status` must be firing or resolved")
        identity = alert.get("fingerprint") or json.dumps(labels, sort_keys=True)
        events.append(
            AlertEvent(
                identity=_key(identity),
                status=status,
                title=_title(notes.get("summary"), labels.get("alertname"), default=title),
                severity_label=_text(labels.get("severity", ""), 50),
                payload=without_secrets(alert),
            )
        )
    truncated = data.get("truncatedAlerts") or 0
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise PayloadInvalid("`truncatedAlerts` must be a whole number")
    return Received(group_key=_key(group_key), title=title, events=events, truncated=truncated)


def _uptime_kuma(data):
    heartbeat = data.get("heartbeat")
    monitor = _mapping(data.get("monitor"), "monitor")
    if heartbeat is None:
        return None  # Kuma's "Test" button sends only `msg`
    heartbeat = _mapping(heartbeat, "heartbeat")
    monitor_id = heartbeat.get("monitorID", monitor.get("id"))
    if monitor_id is None or isinstance(monitor_id, (dict, list, bool)):
        raise PayloadInvalid("the heartbeat names no monitor (monitorID)")
    status = heartbeat.get("status")
    if status not in (0, 1):
        return None  # pending (2) and maintenance (3) open nothing and resolve nothing
    name = _title(monitor.get("name"), default=f"monitor {monitor_id}")
    title = _title(f"{name} is down")
    identity = _key(f"monitor:{monitor_id}")
    event = AlertEvent(
        identity=identity,
        status=FIRING if status == 0 else RESOLVED,
        title=title,
        payload=without_secrets(
            {"heartbeat": heartbeat, "monitor": monitor, "msg": data.get("msg")}
        ),
    )
    return Received(group_key=identity, title=title, events=[event])


def _generic(data):
    if data.get("id") in (None, "") or isinstance(data.get("id"), (dict, list, bool)):
        raise PayloadInvalid("`id` (the alert's identity) is required")
    status = data.get("status", FIRING)
    if status not in (FIRING, RESOLVED):
        raise PayloadInvalid("`status` must be firing or resolved")
    if not isinstance(data.get("title"), str) or not data["title"].strip():
        raise PayloadInvalid("`title` is required")
    group = data.get("group", data["id"])
    if isinstance(group, (dict, list, bool)) or group in (None, ""):
        raise PayloadInvalid("`group` must be text")
    title = _title(data["title"])
    event = AlertEvent(
        identity=_key(data["id"]),
        status=status,
        title=title,
        severity_label=_text(data.get("severity") or "", 50),
        payload=without_secrets(data),
    )
    return Received(group_key=_key(group), title=title, events=[event])


_ALARM_STATES = {"ALARM": FIRING, "OK": RESOLVED}


def _cloudwatch(message):
    try:
        alarm = json.loads(message.get("Message") or "")
    except (TypeError, ValueError):
        raise PayloadInvalid("the SNS Message is not a CloudWatch alarm (not JSON)") from None
    if not isinstance(alarm, dict) or not alarm.get("AlarmArn") and not alarm.get("AlarmName"):
        raise PayloadInvalid("the SNS Message is not a CloudWatch alarm (no AlarmArn)")
    state = alarm.get("NewStateValue")
    if state == "INSUFFICIENT_DATA":
        return None
    if state not in _ALARM_STATES:
        raise PayloadInvalid("the alarm's NewStateValue must be ALARM, OK or INSUFFICIENT_DATA")
    identity = _key(alarm.get("AlarmArn") or f"alarm:{alarm['AlarmName']}")
    title = _title(
        alarm.get("AlarmDescription"), alarm.get("AlarmName"), default="CloudWatch alarm"
    )
    kept = {
        key: alarm.get(key)
        for key in (
            "AlarmName",
            "AlarmDescription",
            "AWSAccountId",
            "Region",
            "AlarmArn",
            "NewStateValue",
            "OldStateValue",
            "NewStateReason",
            "StateChangeTime",
            "Trigger",
        )
        if key in alarm
    }
    kept["MessageId"] = message.get("MessageId")
    event = AlertEvent(
        identity=identity,
        status=_ALARM_STATES[state],
        title=title,
        payload=without_secrets(kept),
    )
    return Received(group_key=identity, title=title, events=[event])
