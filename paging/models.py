"""Pages and chat messages out: where they go (a plan's ``notify:`` entries) and the outbox.

Every page is a ``Delivery`` row, recorded with a unique key in the transaction of the event
that caused it and sent by workers afterwards, like the email outbox (``notifications``). No
row holds a secret: routing keys, chat webhook URLs and signing secrets are read from the
environment variable the plan names (``secret_env``) at the moment of sending.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Kind(models.TextChoices):
    PAGERDUTY = "pagerduty", "PagerDuty (Events API v2)"
    SLACK = "slack", "Slack (incoming webhook)"
    TEAMS = "teams", "Microsoft Teams (Workflows webhook)"
    WEBHOOK = "webhook", "Webhook (Standard Webhooks)"


class Destination(models.Model):
    """One ``notify:`` entry of a service's plan; written only by loading the plan."""

    service = models.ForeignKey(
        "sla.Service", on_delete=models.CASCADE, related_name="paging_destinations"
    )
    name = models.CharField(max_length=50)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The NAME of the environment variable holding the key / URL / signing secret.
    secret_env = models.CharField(max_length=100)
    # kind webhook: where to POST (not a secret; the signing secret is in secret_env).
    url = models.CharField(max_length=2000, blank=True)
    # kind pagerduty, optional: the NAME of the variable holding the signing secret of the
    # PagerDuty webhook subscription that posts back to /hooks/pagerduty/<service>/<name>/.
    webhook_secret_env = models.CharField(max_length=100, blank=True)
    events = models.JSONField(default=list)
    # Empty: every priority / every tier.
    priorities = models.JSONField(default=list, blank=True)
    tiers = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Set when the plan no longer lists it: nothing new is recorded for it.
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="paging_destination_name")
        ]

    def __str__(self):
        return f"{self.service.slug}/{self.name} ({self.kind})"


class Delivery(models.Model):
    """One page or message to one destination, sent at most once in effect.

    ``key`` names the event and the destination, so the code that records an event may run
    twice and still make one row; ``message_id`` (Standard Webhooks' ``webhook-id``) and the
    payload's PagerDuty ``dedup_key`` stay the same on every attempt, so a receiver that saw
    an attempt whose answer we lost (timeout) takes the retry as the same message.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=255, unique=True)
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    message_id = models.CharField(max_length=64)
    # What the message says (title, link, severity, dedup key …); never a secret.
    payload = models.JSONField(default=dict)
    # The payload's ``dedup_key`` (the ticket or incident it is about), as a column: a ticket's
    # resolution finds the PagerDuty destinations its trigger went to through the index.
    dedup_key = models.CharField(max_length=100, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Due time of the next attempt; also a lease while an attempt is under way, so a second
    # worker does not send the same row at the same time.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # After this, a failed attempt marks the row failed instead of trying again.
    give_up_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The sweep reads only pending rows that are due, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="paging_delivery_pending_due",
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.destination}"


class OnCallPage(models.Model):
    """Something the on-call rotation of an on-call tier must take: the primary is told at
    once; if nobody acknowledges it by ``secondary_due_at`` (the plan's
    ``on_call.acknowledge`` later), the beat sweep tells the secondary, once. ``key`` names
    what caused it (a ticket's creation or escalation, an incident's opening), so recording it
    twice makes one row."""

    class Via(models.TextChoices):
        LINK = "link", "Email link"
        ADMIN = "admin", "Admin"
        PAGERDUTY = "pagerduty", "PagerDuty"

    class Closed(models.TextChoices):
        TICKET_RESOLVED = "ticket-resolved", "Ticket resolved before acknowledgement"
        TICKET_CLOSED = "ticket-closed", "Ticket closed before acknowledgement"
        INCIDENT_RESOLVED = "incident-resolved", "Incident resolved before acknowledgement"

    key = models.CharField(max_length=255, unique=True)
    service = models.ForeignKey("sla.Service", on_delete=models.CASCADE, related_name="+")
    tier_level = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    # Where staff act on it (the ticket or incident in the admin).
    url = models.CharField(max_length=500)
    # The PagerDuty ``dedup_key`` of what it is about (``ticket-<id>``, ``incident-<id>``):
    # PagerDuty's acknowledgement (its webhook's ``incident_key``) finds the page through it.
    dedup_key = models.CharField(max_length=100, blank=True, db_index=True)
    primary = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    secondary = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Deadline of the primary's acknowledgement: the sweep reads due rows through the index.
    # Cleared when acknowledged or when the secondary has been told.
    secondary_due_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_via = models.CharField(max_length=10, choices=Via.choices, blank=True)
    secondary_told_at = models.DateTimeField(null=True, blank=True)
    # What it was about was resolved or closed while nobody had acknowledged it: the page is
    # over, the secondary is not told (``oncall.on_call_pages_close_for``). Nobody
    # acknowledged it, so the acknowledged_* fields stay empty; who resolved it and why are
    # here instead.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_reason = models.CharField(max_length=20, choices=Closed.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "on-call page"
        indexes = [
            models.Index(
                fields=["secondary_due_at", "id"],
                condition=models.Q(secondary_due_at__isnull=False),
                name="paging_oncall_secondary_due",
            )
        ]

    def __str__(self):
        return self.title


class PagerDutyWebhookEvent(models.Model):
    """One PagerDuty v3 webhook event received on a destination's hook, signature verified,
    recorded once per PagerDuty event id (a redelivery finds it and changes nothing).
    ``outcome`` says what it did; nothing of the payload but these fields is kept."""

    class Outcome(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "On-call page(s) acknowledged"
        ALREADY = "already", "Already acknowledged"
        UNKNOWN_KEY = "unknown-key", "No on-call page with this key"
        IGNORED = "ignored", "Event type not acted on"

    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="pagerduty_events"
    )
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=60)
    incident_key = models.CharField(max_length=255, blank=True)
    # PagerDuty's incident (id, e.g. PGR0VU2, and its web page) and who acted there.
    incident_id = models.CharField(max_length=50, blank=True)
    incident_url = models.CharField(max_length=500, blank=True)
    agent = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    pages_acknowledged = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "PagerDuty webhook event"
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "event_id"], name="paging_pagerduty_event_once"
            )
        ]

    def __str__(self):
        return f"{self.event_type} {self.incident_key or self.event_id}"
