"""Monitoring in: the hooks a plan declares (``alerts:``), the alert groups that open
incidents, and the alerts themselves.

- ``AlertHook``: one ``alerts:`` entry; its URL is ``/hooks/alerts/<service>/<name>/``.
- ``AlertGroup``: one per (hook, group key: Alertmanager's/Grafana's ``groupKey``, an Uptime
  Kuma monitor, a generic payload's ``group``); it holds the group's current incident, so
  repeats collect on it instead of opening new ones, and ``all_resolved_at`` once every alert
  of that incident has resolved (what staff look for in the admin's alert groups list).
- ``Alert``: one per (hook, source identity: ``fingerprint``, monitor id, generic ``id``),
  counting its deliveries; the stored payload has secret-looking keys removed.
"""

from django.db import models
from django.utils import timezone


class Source(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana alerting"
    UPTIME_KUMA = "uptime-kuma", "Uptime Kuma"
    GENERIC = "generic", "Generic (HMAC-signed JSON)"
    CLOUDWATCH = "cloudwatch", "CloudWatch via SNS"


class AlertHook(models.Model):
    """Written only by loading the plan; holds the NAME of the secret's variable, never it."""

    service = models.ForeignKey("sla.Service", on_delete=models.CASCADE, related_name="alert_hooks")
    name = models.CharField(max_length=50)
    source = models.CharField(max_length=20, choices=Source.choices)
    secret_env = models.CharField(max_length=100)
    # RESTRICT: a priority in use stays, unless its whole service is being deleted.
    severity = models.ForeignKey("sla.Priority", on_delete=models.RESTRICT, related_name="+")
    # Alert severity label → priority code.
    severity_map = models.JSONField(default=dict, blank=True)
    auto_resolve = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    # Set when the plan no longer lists it: its URL then answers 404.
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "name"], name="alert_hook_name")]

    def __str__(self):
        return f"{self.service.slug}/{self.name}"

    def get_absolute_url(self):
        return f"/hooks/alerts/{self.service.slug}/{self.name}/"


class AlertGroup(models.Model):
    hook = models.ForeignKey(AlertHook, on_delete=models.CASCADE, related_name="groups")
    # The source's group identity (hashed when longer than the column).
    key = models.CharField(max_length=255)
    title = models.CharField(max_length=200)
    # The incident its alerts go to while it is unresolved; a firing alert after it resolved
    # opens a new one.
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alert_groups",
    )
    # Deliveries of firing alerts into the current incident, and when the last came.
    count = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # Every alert of the current incident has resolved (null while any still fires).
    all_resolved_at = models.DateTimeField(null=True, blank=True)
    # Alertmanager/Grafana said alerts were left out of a delivery (``truncatedAlerts``).
    truncated_alerts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["hook", "key"], name="alert_group_key"),
        ]

    def __str__(self):
        return self.title


class Alert(models.Model):
    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    hook = models.ForeignKey(AlertHook, on_delete=models.CASCADE, related_name="alerts")
    group = models.ForeignKey(AlertGroup, on_delete=models.CASCADE, related_name="alerts")
    # The source's identity of the alert (hashed when longer than the column).
    identity = models.CharField(max_length=255)
    # The incident it last fired into.
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    title = models.CharField(max_length=200)
    severity_label = models.CharField(max_length=50, blank=True)
    count = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The last delivery's part about this alert, secret-looking keys removed.
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["hook", "identity"], name="alert_identity"),
        ]
        indexes = [models.Index(fields=["group", "status"], name="alert_group_status")]

    def __str__(self):
        return self.title


class SnsSubscription(models.Model):
    """An SNS ``SubscriptionConfirmation`` (or ``UnsubscribeConfirmation``) a cloudwatch hook
    received, signature and topic verified. The portal confirms a subscription itself by
    fetching ``subscribe_url`` (an SNS URL, through the SSRF guard); when that fails, staff see
    the URL and the reason here and can open it by hand."""

    class Kind(models.TextChoices):
        SUBSCRIBE = "subscribe", "Subscription confirmation"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe confirmation"

    hook = models.ForeignKey(AlertHook, on_delete=models.CASCADE, related_name="sns_subscriptions")
    message_id = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    topic_arn = models.CharField(max_length=300)
    subscribe_url = models.CharField(max_length=2000, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "SNS subscription message"

    def __str__(self):
        return f"{self.get_kind_display()} of {self.topic_arn}"
