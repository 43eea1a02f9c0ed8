"""Take one authenticated delivery of alerts: deduplicate, open or update the group's incident.

One transaction per delivery, which first locks the hook's group row (creating it if new):
two deliveries of the same group at once — Alertmanager retrying while the first is still
being handled, two Alertmanager replicas — take turns, and the second sees the incident the
first opened instead of opening another.

- A firing alert while the group has no unresolved incident opens one (a draft: nothing
  public until staff publish it) with the severity of ``severity_map`` for the alert's
  severity label, else the hook's ``severity``; ``incident_open`` pages ``incident.opened``.
- Repeats collect on the group and on each alert (``count``, ``last_seen_at``).
- A resolved alert is marked resolved. When every alert of the group's incident has resolved,
  the group says so (``all_resolved_at``); with ``auto_resolve`` the incident is resolved
  through ``incidents.services.incident_resolve``, which pages ``incident.resolved``.

The common delivery — only firing alerts into a group whose incident is open and still has
alerts firing — takes one statement on PostgreSQL (``_firing_into_open_incident``): the group's
row updated (its lock taken) and the alerts upserted together, nothing to decide in Python. Any
other delivery (a group's first, a resolved alert, an incident resolved, a fingerprint twice in
one delivery, SQLite) takes the transaction above.
"""

import json
import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from incidents.models import Incident
from incidents.services import incident_open, incident_resolve
from paging import transport
from sla.models import Priority, Service

from .models import Alert, AlertGroup, AlertHook, SnsSubscription
from .sns import sns_url_allowed
from .sources import FIRING, RESOLVED

logger = logging.getLogger(__name__)

# The staff account incidents opened and resolved by alerts are recorded under. It has no
# usable password and no email address: nobody signs in as it.
ACTOR_USERNAME = "alerts-bot"


def alerts_actor():
    user, _ = get_user_model().objects.get_or_create(
        username=ACTOR_USERNAME,
        defaults={
            "first_name": "Alerts",
            "is_staff": True,
            "is_active": True,
            "password": make_password(None),
        },
    )
    return user


class ReadHookAgain(Exception):
    """Raised, nothing written, for a delivery authenticated against a kept copy of its hook
    (``alerts.views``) when the hook's row no longer authenticates as the copy did (plan
    reloaded: retired, another source or secret variable, the service renamed). The caller
    reads the hook again, authenticates again and calls again."""


def alerts_receive(*, hook, received, now=None, kept=False):
    """Record ``received`` (``alerts.sources.Received``) for ``hook``; returns the id of the
    incident its alerts went to (None: no incident, e.g. only resolved alerts of a new group).

    ``kept``: ``hook`` is a copy kept from an earlier request, not read in this one. The
    one-statement path checks in that statement that the row still authenticates as the copy
    did; the transaction path reads the row again first, with the same check. When the row
    no longer matches: ``ReadHookAgain``, nothing written."""
    now = now or timezone.now()
    if _one_statement_applies(received):
        matched, incident_id = _firing_into_open_incident(hook, received, now)
        if matched and incident_id is not None:
            return incident_id
        if kept and not matched:
            raise ReadHookAgain
    if kept:
        hook = _hook_again(hook)
    return _receive(hook=hook, received=received, now=now).incident_id


def _hook_again(kept):
    """The hook's row read fresh (its severity, map, auto_resolve as the plan has them now),
    provided it still authenticates as the ``kept`` copy did; else ``ReadHookAgain``."""
    hook = (
        AlertHook.objects.select_related("service", "severity")
        .filter(
            pk=kept.pk,
            retired_at__isnull=True,
            service__slug=kept.service.slug,
            name=kept.name,
            source=kept.source,
            secret_env=kept.secret_env,
        )
        .first()
    )
    if hook is None:
        raise ReadHookAgain
    return hook


def _one_statement_applies(received):
    if connection.vendor != "postgresql" or not received.events:
        return False
    identities = {event.identity for event in received.events}
    return len(identities) == len(received.events) and all(
        event.status == FIRING for event in received.events
    )


_FIRING_SQL = """
WITH h AS (
    SELECT 1 FROM {hook} AS h JOIN {service} AS s ON s.id = h.service_id
    WHERE h.id = %(hook)s AND h.retired_at IS NULL AND s.slug = %(slug)s
      AND h.name = %(name)s AND h.source = %(source)s AND h.secret_env = %(secret_env)s
), g AS (
    UPDATE {group} AS ag
    SET count = ag.count + %(firing)s, last_seen_at = %(now)s,
        truncated_alerts = ag.truncated_alerts + %(truncated)s
    FROM {incident} AS i
    WHERE ag.hook_id = %(hook)s AND ag.key = %(key)s AND ag.all_resolved_at IS NULL
      AND i.id = ag.incident_id AND i.resolved_at IS NULL AND EXISTS (SELECT 1 FROM h)
    RETURNING ag.id, ag.incident_id
), a AS (
    INSERT INTO {alert} AS al (hook_id, group_id, identity, incident_id, status, title,
        severity_label, count, first_seen_at, last_seen_at, resolved_at, payload)
    SELECT %(hook)s, g.id, v.identity, g.incident_id, %(status)s, v.title, v.severity_label, 1,
        %(now)s, %(now)s, NULL, v.payload
    FROM g, jsonb_to_recordset(%(alerts)s::jsonb)
        AS v(identity text, title text, severity_label text, payload jsonb)
    ORDER BY v.identity
    ON CONFLICT (hook_id, identity) DO UPDATE SET
        group_id = EXCLUDED.group_id, incident_id = EXCLUDED.incident_id,
        status = EXCLUDED.status, title = EXCLUDED.title,
        severity_label = EXCLUDED.severity_label, count = al.count + 1,
        last_seen_at = EXCLUDED.last_seen_at, resolved_at = NULL, payload = EXCLUDED.payload
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM h), (SELECT incident_id FROM g), (SELECT count(*) FROM a)
"""


def _firing_into_open_incident(hook, received, now):
    """Firing alerts (each identity once) into a group whose incident is unresolved and whose
    alerts are not all resolved: one statement, atomic by itself, no transaction to open.

    The group row's update takes its lock before any alert is written, so deliveries of one
    group still take turns with the transaction path (which locks the same row); when that row
    changed while this statement waited, PostgreSQL checks the conditions again on the new
    version (another incident, all resolved: no match). The statement also checks that the
    hook's row still authenticates as ``hook`` does (active, same service slug, name, source,
    secret variable). Returns (hook matched, the incident's id or None); nothing is written
    unless both."""
    events = sorted(received.events, key=lambda event: event.identity)
    sql = _FIRING_SQL.format(
        hook=AlertHook._meta.db_table,
        service=Service._meta.db_table,
        group=AlertGroup._meta.db_table,
        incident=Incident._meta.db_table,
        alert=Alert._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "hook": hook.pk,
                "slug": hook.service.slug,
                "name": hook.name,
                "source": hook.source,
                "secret_env": hook.secret_env,
                "key": received.group_key,
                "firing": len(events),
                "truncated": received.truncated,
                "now": now,
                "status": Alert.Status.FIRING.value,
                # One JSON document (one literal to quote, whatever the delivery's size).
                "alerts": json.dumps(
                    [
                        {
                            "identity": event.identity,
                            "title": event.title,
                            "severity_label": event.severity_label,
                            "payload": event.payload,
                        }
                        for event in events
                    ]
                ),
            },
        )
        matched, incident_id, written = cursor.fetchone()
    if matched and incident_id is not None and written != len(events):
        raise AssertionError(f"{written} of {len(events)} alerts written")  # cannot happen
    return matched, incident_id


@transaction.atomic
def _receive(*, hook, received, now):
    # The group's row inserted, or its existing row locked, in one statement (INSERT … ON
    # CONFLICT DO UPDATE takes the row lock either way; no savepoint): a second delivery of
    # the group waits here until this transaction ends, then reads what it wrote.
    AlertGroup.objects.bulk_create(
        [AlertGroup(hook=hook, key=received.group_key, title=received.title, last_seen_at=now)],
        update_conflicts=True,
        unique_fields=["hook", "key"],
        update_fields=["hook"],
    )
    group = AlertGroup.objects.select_related("incident").get(hook=hook, key=received.group_key)
    firing = [event for event in received.events if event.status == FIRING]
    incident = group.incident
    actor = None
    if firing and (incident is None or incident.resolved_at is not None):
        actor = alerts_actor()
        severity = _severity(hook, firing)
        incident = incident_open(
            service=hook.service, severity=severity, title=received.title, by=actor
        )
        group.incident = incident
        group.title = received.title
        group.count = 0
        group.all_resolved_at = None
    existing = {
        alert.identity: alert
        for alert in Alert.objects.filter(
            hook=hook, identity__in=[event.identity for event in received.events]
        )
    }
    # Written in two statements whatever the delivery's size (Alertmanager sends a whole group
    # in one delivery): the new alerts inserted, the known ones updated.
    new, known = {}, {}
    for event in received.events:
        alert = existing.get(event.identity)
        if alert is None:
            alert = Alert(hook=hook, identity=event.identity, first_seen_at=now, count=0)
            new[event.identity] = alert
        elif alert.pk is not None:
            known[event.identity] = alert
        alert.group = group
        alert.title = event.title
        alert.severity_label = event.severity_label
        alert.payload = event.payload
        alert.last_seen_at = now
        if event.status == FIRING:
            alert.status = Alert.Status.FIRING
            alert.count += 1
            alert.incident = incident
            alert.resolved_at = None
        elif alert.status != Alert.Status.RESOLVED:
            alert.status = Alert.Status.RESOLVED
            alert.resolved_at = now
        existing[event.identity] = alert
    if new:
        Alert.objects.bulk_create(new.values())
    if known:
        Alert.objects.bulk_update(known.values(), _ALERT_FIELDS)
    if firing:
        group.count += len(firing)
        group.last_seen_at = now
    group.truncated_alerts += received.truncated
    if incident is not None:
        still_firing = Alert.objects.filter(
            group=group, incident=incident, status=Alert.Status.FIRING
        ).exists()
        if still_firing:
            group.all_resolved_at = None
        elif group.all_resolved_at is None:
            group.all_resolved_at = now
            if hook.auto_resolve and incident.resolved_at is None:
                _auto_resolve(hook, incident, actor or alerts_actor())
    group.save()
    return group


_ALERT_FIELDS = [
    "group",
    "title",
    "severity_label",
    "payload",
    "last_seen_at",
    "status",
    "count",
    "incident",
    "resolved_at",
]


def _severity(hook, firing):
    """The most urgent priority among the firing alerts' mapped severities, else the hook's."""
    codes = {hook.severity_map.get(event.severity_label) for event in firing} - {None}
    if not codes:
        return hook.severity
    mapped = Priority.objects.filter(service=hook.service_id, code__in=codes)
    return mapped.order_by("position").first() or hook.severity


def _auto_resolve(hook, incident, actor):
    try:
        incident_resolve(incident=incident, by=actor, note=f"Every alert of {hook} resolved.")
    except (ValidationError, PermissionDenied) as exc:
        # The incident's process refused (e.g. a plan edited under it): staff resolve it.
        logger.warning("Could not auto-resolve %s: %s", incident, exc)


def sns_subscription_receive(*, hook, message, now=None):
    """Record a verified SNS (Un)SubscriptionConfirmation once (keyed by its MessageId) and, for
    a subscription, confirm it by fetching its SubscribeURL — an SNS URL (checked again here),
    through the paging SSRF guard, outside any transaction. Returns the row.

    Confirming automatically is safe: the message is SNS-signed and names a topic the plan's
    variable lists, so it is the operator's own topic subscribing the hook. When the fetch
    fails the row keeps the reason, and staff open the URL from the admin (SNS sends no second
    confirmation by itself)."""
    now = now or timezone.now()
    kind = (
        SnsSubscription.Kind.SUBSCRIBE
        if message["Type"] == "SubscriptionConfirmation"
        else SnsSubscription.Kind.UNSUBSCRIBE
    )
    row, _ = SnsSubscription.objects.get_or_create(
        message_id=str(message["MessageId"])[:100],
        defaults={
            "hook": hook,
            "kind": kind,
            "topic_arn": message["TopicArn"][:300],
            "subscribe_url": str(message.get("SubscribeURL") or "")[:2000],
            "received_at": now,
        },
    )
    if kind != SnsSubscription.Kind.SUBSCRIBE or row.confirmed_at is not None:
        return row
    error = ""
    if not sns_url_allowed(row.subscribe_url):
        error = "SubscribeURL is not an SNS URL; not fetched"
    else:
        try:
            answer = transport.get(row.subscribe_url, limit=4096)
        except (transport.Refused, transport.Unreachable) as exc:
            error = f"confirmation failed: {exc}"
        else:
            if answer.status != 200:
                error = f"confirmation failed: HTTP {answer.status}"
    if error:
        SnsSubscription.objects.filter(pk=row.pk).update(error=error[:300])
        row.error = error[:300]
        logger.warning("SNS subscription of %s not confirmed: %s", hook, error)
    else:
        confirmed = timezone.now()
        SnsSubscription.objects.filter(pk=row.pk, confirmed_at__isnull=True).update(
            confirmed_at=confirmed, error=""
        )
        row.confirmed_at, row.error = confirmed, ""
    return row


__all__ = [
    "RESOLVED",
    "ReadHookAgain",
    "alerts_actor",
    "alerts_receive",
    "sns_subscription_receive",
]
