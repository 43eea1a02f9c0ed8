"""Tickets, their conversation, attachments and the record of every change."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        WAITING_ON_CUSTOMER = "waiting_on_customer", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    # No index of its own: ticket_metrics_created (service, created_at) leads with it.
    service = models.ForeignKey(
        "sla.Service", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tickets"
    )
    priority = models.ForeignKey("sla.Priority", on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=200)
    description = models.TextField()
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.NEW)
    tier = models.PositiveSmallIntegerField(default=1)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # A follow-up opened from a closed ticket that could no longer be reopened.
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    # --- SLA timers (rules in docs/sla.md; written only by tickets/timers.py) ---------------
    # Whether the first response / the resolution came within target; null while running.
    response_met = models.BooleanField(null=True, blank=True)
    resolution_met = models.BooleanField(null=True, blank=True)
    # When the "at risk" notice of each timer is due (warn_at of the timer's open time).
    response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    # The resolution timer is stopped since then (a pause status, or resolved/closed).
    paused_at = models.DateTimeField(null=True, blank=True)
    # Every stop of the resolution timer: [[start, end or null, status], ...] (ISO, UTC). The
    # deadline is recomputed from these on a priority change or a resume.
    sla_pauses = models.JSONField(default=list, blank=True)
    # When the ticket entered its current tier, and when that tier must have picked it up.
    tier_entered_at = models.DateTimeField(null=True, blank=True)
    pickup_due_at = models.DateTimeField(null=True, blank=True)
    # The nearest running deadline (response, resolution unless paused, pickup): the admin's
    # "nearest deadline" sort.
    next_due_at = models.DateTimeField(null=True, blank=True)
    # The earliest instant at which the escalation sweep has something to do for this ticket
    # (a warning, a breach, a pickup, a management notice); null: nothing pending.
    next_sla_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # "My tickets", newest activity first.
            models.Index(fields=["customer", "-updated_at", "-id"], name="ticket_customer_updated"),
            # Submission throttle: a customer's tickets in the last hour.
            models.Index(fields=["customer", "created_at"], name="ticket_customer_created"),
            # Staff queues: open tickets of a tier.
            models.Index(fields=["tier", "status", "-updated_at"], name="ticket_tier_status"),
            models.Index(fields=["response_due_at"], name="ticket_response_due"),
            models.Index(fields=["resolution_due_at"], name="ticket_resolution_due"),
            models.Index(fields=["pickup_due_at"], name="ticket_pickup_due"),
            # The staff list's order, whole: nearest running deadline first (ascending puts
            # NULLs last, as the list wants), newest first among equals. On next_due_at alone,
            # a page whose 50 rows run into the tickets with no deadline (the resolved and
            # closed: most of the table) read and sorted every one of them.
            models.Index(fields=["next_due_at", "-id"], name="ticket_next_due_id"),
            # The sweep reads only rows with something due, through this small index: an idle
            # sweep over a million tickets is one index probe.
            models.Index(
                fields=["next_sla_check_at"],
                condition=models.Q(next_sla_check_at__isnull=False),
                name="ticket_sla_check",
            ),
            # Success metrics (metrics/selectors.py): a service's tickets opened, and resolved,
            # in a period, so a month reads that month's rows, not the table.
            models.Index(fields=["service", "created_at"], name="ticket_metrics_created"),
            models.Index(
                fields=["service", "resolved_at"],
                condition=models.Q(resolved_at__isnull=False),
                name="ticket_metrics_resolved",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])

    @property
    def number(self):
        return f"#{self.pk}"

    @property
    def is_active(self):
        return self.status not in (self.Status.RESOLVED, self.Status.CLOSED)


class TicketCC(models.Model):
    """A colleague of the customer (same organisation) who hears of the ticket as the
    customer does, and may read and reply to it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ccs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ticket_ccs"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="uniq_ticket_cc")]
        verbose_name = "CC"

    def __str__(self):
        return f"{self.user} on {self.ticket.number}"


class Message(models.Model):
    """One entry of the conversation: a public reply, or a staff-only internal note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ticket_messages"
    )
    body = models.TextField()
    internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]

    def __str__(self):
        kind = "note" if self.internal else "reply"
        return f"{kind} by {self.author} on {self.ticket.number}"


def attachment_path(instance, filename):
    # The stored name is not the uploaded one: a customer's file name never becomes a path.
    return f"attachments/{timezone.now():%Y/%m}/{instance.ticket_id}/{instance.token}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    token = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tickets:attachment", args=[self.ticket_id, self.pk])


class TicketEvent(models.Model):
    """Who changed what on a ticket, and when: the ticket's audit trail."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        REPLIED = "replied", "Public reply"
        NOTE = "note", "Internal note"
        STATUS = "status", "Status changed"
        PRIORITY = "priority", "Priority changed"
        ASSIGNED = "assigned", "Assignee changed"
        ESCALATED = "escalated", "Escalated"
        SLA = "sla", "Service level"
        RATED = "rated", "Rated"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self):
        return self.summary


class TicketSlaStep(models.Model):
    """One thing the escalation machinery did for a ticket: recorded first, acted on once.

    The unique key is (ticket, timer, deadline, step): a deadline is its own version — when a
    priority change or a resume moves it, the steps of the new deadline are new steps, while a
    second sweep (or a concurrent one, or one catching up after beat was down) finds the steps
    of the same deadline already recorded and does nothing. The row is written in the same
    transaction as the escalation and its emails, so a crash leaves neither.
    """

    class Timer(models.TextChoices):
        RESPONSE = "response", "First response"
        RESOLUTION = "resolution", "Resolution"
        PICKUP = "pickup", "Tier pickup"
        MANUAL = "manual", "Manual"

    class Step(models.TextChoices):
        WARNED = "warned", "At risk"
        BREACHED = "breached", "Breached"
        ESCALATED = "escalated", "Escalated by staff"
        MANAGEMENT_1 = "management_1", "Management role 1"
        MANAGEMENT_2 = "management_2", "Management role 2"
        MANAGEMENT_3 = "management_3", "Management role 3"
        MANAGEMENT_4 = "management_4", "Management role 4"
        MANAGEMENT_5 = "management_5", "Management role 5"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_steps")
    timer = models.CharField(max_length=20, choices=Timer.choices)
    due_at = models.DateTimeField()
    step = models.CharField(max_length=20, choices=Step.choices)
    # When the step fell due (the warn instant, the deadline, …); ``created_at`` is when it ran.
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "timer", "due_at", "step"], name="uniq_ticket_sla_step"
            )
        ]
        verbose_name = "SLA step"

    def __str__(self):
        return f"{self.ticket_id}: {self.timer} {self.step}"


class TimerOutcome(models.Model):
    """How a timer ended, for reports: met or breached, and by how much open time."""

    class Timer(models.TextChoices):
        RESPONSE = "response", "First response"
        RESOLUTION = "resolution", "Resolution"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="timer_outcomes")
    timer = models.CharField(max_length=20, choices=Timer.choices)
    due_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    met = models.BooleanField()
    # Open time on the timer's calendar from the deadline to the finish: negative = early.
    delta = models.DurationField()
    # What stopped it: a staff reply, resolved, closed.
    ended_by = models.CharField(max_length=20)

    class Meta:
        ordering = ["finished_at", "id"]
        indexes = [models.Index(fields=["timer", "finished_at"], name="outcome_timer_finished")]

    def __str__(self):
        return f"{self.ticket_id}: {self.timer} {'met' if self.met else 'breached'}"


class CannedReply(models.Model):
    """A reply staff of a service start from, picked on the ticket page.

    ``body`` may name ``{customer_name}``, ``{ticket_number}``, ``{response_due}`` and
    ``{resolution_due}``; ``tickets.canned.render_canned_reply`` fills them in as plain text
    (staff edit the result before sending; nothing in it is ever read as markup).
    """

    service = models.ForeignKey(
        "sla.Service", on_delete=models.CASCADE, related_name="canned_replies"
    )
    title = models.CharField(max_length=100)
    body = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "position", "title"]
        constraints = [
            models.UniqueConstraint(fields=["service", "title"], name="uniq_canned_reply_title")
        ]
        verbose_name = "canned reply"
        verbose_name_plural = "canned replies"

    def __str__(self):
        return self.title
