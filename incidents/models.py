"""Incidents, the steps of the plan's incident process, their updates and post-mortems.

An incident is a **draft** until a member with ``incidents.publish_incident`` publishes it
(``published_at``): until then nothing of it is public — not /status/, the JSON, the feeds or
the history — and its public updates are held, not emailed. Staff work drafts as any incident.

Its ``impact`` on the service uses Statuspage's component statuses. A published incident whose
impact is a partial or major outage (``outage``, kept in step with the impact by the services)
counts as downtime from ``started_at`` to ``resolved_at`` (or now while it lasts) in the uptime
report; planned maintenance inside that span does not; degraded performance does not count.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

# The process of plan-format.md when a plan names no steps of its own.
DEFAULT_STEPS = ["detect", "triage", "communicate", "resolve", "review"]


class Impact(models.TextChoices):
    """What an incident does to its service, in Statuspage's component status words."""

    OPERATIONAL = "operational", "Operational"
    DEGRADED_PERFORMANCE = "degraded_performance", "Degraded performance"
    PARTIAL_OUTAGE = "partial_outage", "Partial outage"
    MAJOR_OUTAGE = "major_outage", "Major outage"
    UNDER_MAINTENANCE = "under_maintenance", "Under maintenance"


# The impacts that are downtime in the uptime report (``Incident.outage``): the service, or a
# part of it customers pay for, does not work. Degraded performance is slow but up.
OUTAGE_IMPACTS = frozenset({Impact.PARTIAL_OUTAGE, Impact.MAJOR_OUTAGE})


class UpdateStatus(models.TextChoices):
    """Where a public update says the incident stands, in Statuspage's incident status words."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    service = models.ForeignKey("sla.Service", on_delete=models.PROTECT, related_name="incidents")
    # Severity uses the plan's priorities (P0 critical, …).
    severity = models.ForeignKey("sla.Priority", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    # What it does to the service, as /status/ and the Statuspage JSON say it.
    impact = models.CharField(max_length=24, choices=Impact.choices, default=Impact.MAJOR_OUTAGE)
    # Counts as downtime in the uptime report: the impact is a partial or major outage
    # (OUTAGE_IMPACTS); set with the impact by the services, stored for the uptime queries.
    outage = models.BooleanField(default=True)
    # The current step of the plan's process (IncidentPolicy.steps, DEFAULT_STEPS without one).
    step = models.CharField(max_length=40, default="detect")
    # When the impact began: may be earlier than the record (detected late).
    started_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # resolved_at + the plan's postmortem_due; null until resolved or when the plan has none.
    postmortem_due_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_incidents",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tickets = models.ManyToManyField("tickets.Ticket", related_name="incidents", blank=True)
    # The plan's procedure for this type of incident (``Runbook``), chosen when it is opened:
    # its deadlines (``IncidentDeadline``) run from ``started_at``, the detection.
    runbook = models.ForeignKey(
        "Runbook", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    # The post-mortem reminder sweep's deadline column (STYLE.md rule 5): when the next
    # reminder (half-time, deadline, management role k) falls due; null once the post-mortem is
    # completed, or when none is due. ``postmortem_reminders_done`` counts the stages of the
    # schedule (``incidents.deadlines.reminder_schedule``) already handled, sent or skipped.
    postmortem_reminder_at = models.DateTimeField(null=True, blank=True)
    postmortem_reminders_done = models.PositiveSmallIntegerField(default=0)
    # Null while a draft: nothing public. Set once, by a member with publish_incident.
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [
            (
                "publish_incident",
                "Can publish an incident (status page, feeds and subscribers' email)",
            )
        ]
        indexes = [
            # Uptime and MTBF: a service's outages overlapping a period.
            models.Index(fields=["service", "started_at"], name="incident_service_started"),
            models.Index(fields=["service", "resolved_at"], name="incident_service_resolved"),
            # The reminder sweep reads only incidents with a reminder pending, soonest first:
            # its cost does not grow with the (mostly finished) rest of the table.
            models.Index(
                fields=["postmortem_reminder_at", "id"],
                condition=models.Q(postmortem_reminder_at__isnull=False),
                name="incident_postmortem_reminder",
            ),
            # The status page: the incidents still open…
            models.Index(
                fields=["service", "started_at"],
                condition=models.Q(resolved_at__isnull=True),
                name="incident_open",
            ),
            # …or resolved in the last day. With the one above, PostgreSQL reads the page's
            # rows by a BitmapOr of the two instead of scanning every incident ever recorded
            # on each hit of /status/ (20 ms at 200,000 incidents, 0.1 ms with it).
            models.Index(fields=["resolved_at"], name="incident_resolved"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolved_at__isnull=True)
                | models.Q(resolved_at__gte=models.F("started_at")),
                name="incident_resolved_after_start",
            )
        ]

    def __str__(self):
        return f"INC-{self.pk}: {self.title}"

    @property
    def number(self):
        return f"INC-{self.pk}"

    @property
    def is_resolved(self):
        return self.resolved_at is not None

    @property
    def is_published(self):
        return self.published_at is not None

    @property
    def current_status(self):
        """Where the incident stands publicly (``UpdateStatus``): resolved once resolved, else
        what its latest public update says (read from ``public_updates``, newest first, when
        a selector prefetched them), investigating before any."""
        if self.resolved_at is not None:
            return UpdateStatus.RESOLVED
        updates = getattr(self, "public_updates", None)
        if updates is None:
            updates = list(self.updates.filter(public=True).order_by("-created_at", "-id")[:1])
        return UpdateStatus(updates[0].status) if updates else UpdateStatus.INVESTIGATING


class IncidentStepRecord(models.Model):
    """The incident entered ``step`` at ``at``, moved there by ``by``."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="step_records")
    step = models.CharField(max_length=40)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.incident.number} → {self.step}"


class IncidentUpdate(models.Model):
    """A note on the incident: public ones show on /status/ and go to subscribers, once.

    A public update posted while the incident is a draft is held: not emailed (``emails_pending``
    stays false) until the incident is published, which marks every held one pending once.
    A public update's emails are recorded in the background (``incidents.fanout``), a batch of
    subscribers per transaction: ``emails_pending`` marks an update whose emails are not all
    recorded yet, ``emails_cursor`` is the last subscription id done (committed with that
    batch's outbox rows), ``emails_body`` the content rendered once for every batch.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    body = models.TextField()
    public = models.BooleanField(default=False)
    # Where the incident stands as this update says it (shown with public updates).
    status = models.CharField(
        max_length=16, choices=UpdateStatus.choices, default=UpdateStatus.INVESTIGATING
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    emails_pending = models.BooleanField(default=False)
    emails_cursor = models.BigIntegerField(default=0)
    emails_recorded = models.PositiveIntegerField(default=0)
    emails_done_at = models.DateTimeField(null=True, blank=True)
    emails_body = models.ForeignKey(
        "notifications.NotificationBody",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "public", "created_at"], name="incident_update"),
            # The fan-out sweep reads only the updates still being emailed: its cost does not
            # grow with the history of updates, all but a few of which are done.
            models.Index(
                fields=["id"],
                condition=models.Q(emails_pending=True),
                name="incident_update_emails_pending",
            ),
        ]

    def __str__(self):
        return f"{'public' if self.public else 'internal'} update on {self.incident.number}"


class Postmortem(models.Model):
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="postmortem")
    summary = models.TextField(blank=True)
    timeline = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    # Written: the reminders stop. Published: shown on /status/.
    completed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The status page lists the recently published post-mortems.
            models.Index(
                fields=["published_at"],
                condition=models.Q(published_at__isnull=False),
                name="postmortem_published",
            )
        ]

    def __str__(self):
        return f"post-mortem of {self.incident.number}"

    @property
    def state(self):
        """draft · completed · published: what the admin's lists and links call it."""
        if self.published_at:
            return "published"
        return "completed" if self.completed_at else "draft"


class PostmortemAction(models.Model):
    postmortem = models.ForeignKey(Postmortem, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.description


class Runbook(models.Model):
    """A plan's procedure for one type of incident (``incidents.runbooks``; written by
    ``load_plan`` only): its steps, the management roles told when such an incident is opened,
    and the deadlines that run from detection (a personal-data breach: the authority within
    72 hours). ``name`` is the plan's ``type``; one dropped from the plan is retired."""

    service = models.ForeignKey("sla.Service", on_delete=models.CASCADE, related_name="runbooks")
    name = models.SlugField(max_length=50, help_text="The plan's incident type.")
    title = models.CharField(max_length=200)
    steps = models.JSONField(default=list, blank=True)
    notify = models.JSONField(default=list, blank=True)  # management_chain role names
    deadlines = models.JSONField(default=list, blank=True)  # [[name, duration], ...]
    position = models.PositiveSmallIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["service", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="uniq_runbook_type")
        ]

    def __str__(self):
        return self.title


class IncidentDeadline(models.Model):
    """One deadline of an incident's runbook, due a plan-given time after detection, with its
    reminders (owner at half-time and at the deadline, then the management chain) swept by
    ``incidents.tasks.remind_incident_deadlines`` as post-mortem reminders are."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deadlines")
    name = models.CharField(max_length=200)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sweep's deadline column: the next reminder; null once done or none is left.
    reminder_at = models.DateTimeField(null=True, blank=True)
    reminders_done = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "name"], name="uniq_incident_deadline")
        ]
        indexes = [
            models.Index(
                fields=["reminder_at", "id"],
                condition=models.Q(reminder_at__isnull=False),
                name="incident_deadline_reminder",
            )
        ]

    def __str__(self):
        return f"{self.incident.number}: {self.name}"
