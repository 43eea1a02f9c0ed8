"""A service's routine tasks (its plan's ``routine_tasks``) and their dated checklist items:
one per task and period.

An item is created by beat (``routine.tasks.create_routine_items``) for the period it belongs
to, computed in the service's time zone, and is due when the period ends there. Staff tick it
off with a note and/or a file as evidence; an item not done by its due time is overdue and its
owner tier hears of it once (``routine.tasks.remind_overdue_routine_items``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from sla.models import Service

from .recovery import format_span

# A task without an owner tier in its plan belongs to the first line, which sees every item.
DEFAULT_TIER = 1


def evidence_path(instance, filename):
    # The stored name is never the uploaded one: a staff member's file name never becomes a path.
    return f"routine/{timezone.now():%Y/%m}/{instance.pk}/{instance.evidence_token}"


class RoutineTask(models.Model):
    """A recurring checklist item of the plan (weekly backups verification, …)."""

    class Every(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        ANNUALLY = "annually", "Annually"
        # Not periodic: an item per release staff record (``routine.Release``), due ``within``.
        ON_RELEASE = "on_release", "On each release"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="routine_tasks")
    name = models.CharField(max_length=200)
    every = models.CharField(max_length=20, choices=Every.choices)
    category = models.CharField(max_length=50, default="general")
    tier = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Owner tier level.")
    # ``on_release`` tasks: how long after a release its item is due (a plan duration, "7d").
    within = models.CharField(max_length=20, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # A task dropped from the plan is retired, not deleted.
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "position"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="uniq_routine_task_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.every})"

    def clean(self):
        if self.tier is not None and self.service_id:
            levels = set(self.service.tiers.values_list("level", flat=True))
            if levels and self.tier not in levels:
                raise ValidationError(
                    {"tier": f"tier {self.tier} is not one of the plan's tier levels"}
                )


class Release(models.Model):
    """A release staff recorded for an ``every: on_release`` task ("security patches applied
    within 7 days of release"): its checklist item is due the task's ``within`` after it."""

    task = models.ForeignKey(RoutineTask, on_delete=models.PROTECT, related_name="releases")
    name = models.CharField(max_length=200, help_text="What was released: OpenSSL 3.0.15, …")
    released_at = models.DateTimeField(help_text="When it was released (the clock starts).")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-released_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "name"], name="uniq_release_per_task")
        ]

    def __str__(self):
        return f"{self.name} ({self.task.name})"


class RoutineItem(models.Model):
    task = models.ForeignKey(RoutineTask, on_delete=models.CASCADE, related_name="items")
    # The release an ``on_release`` task's item is for; null for periodic items.
    release = models.OneToOneField(
        Release, null=True, blank=True, on_delete=models.CASCADE, related_name="item"
    )
    # The task's service, repeated so lists filter and group without a join.
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="routine_items")
    # The task's frequency when the item was made: a plan may later change it.
    every = models.CharField(max_length=20, choices=RoutineTask.Every.choices)
    period_start = models.DateField(help_text="First local day of the period.")
    period_end = models.DateField(help_text="Last local day of the period.")
    label = models.CharField(max_length=40, help_text='"week 48 2026", "November 2026", …')
    due_at = models.DateTimeField(help_text="The end of the period in the service's time zone.")
    tier = models.PositiveSmallIntegerField(default=DEFAULT_TIER, help_text="Owner tier.")
    created_at = models.DateTimeField(default=timezone.now)
    # Set once the owner tier has been emailed about the item being overdue.
    reminded_at = models.DateTimeField(null=True, blank=True)

    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    evidence = models.FileField(upload_to=evidence_path, max_length=300, blank=True)
    evidence_token = models.CharField(max_length=64, blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    evidence_content_type = models.CharField(max_length=100, blank=True)
    evidence_size = models.PositiveBigIntegerField(null=True, blank=True)

    # DR drills and restore tests (``recovery.is_recovery_test``): what was achieved against
    # the targets in force when it was recorded, so a later plan edit does not rewrite history.
    recovery_test = models.BooleanField(default=False)
    recovery_class = models.CharField(max_length=100, blank=True)
    rto_achieved = models.DurationField(null=True, blank=True)
    rpo_achieved = models.DurationField(null=True, blank=True)
    rto_target = models.CharField(max_length=20, blank=True)
    rpo_target = models.CharField(max_length=20, blank=True)
    rto_met = models.BooleanField(null=True, blank=True)
    rpo_met = models.BooleanField(null=True, blank=True)
    results_recorded_at = models.DateTimeField(null=True, blank=True)
    results_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Plain columns, served by ``routine_item_due``: ordering by the foreign keys would
        # join the service and task tables into every read, the beat jobs' included.
        ordering = ["-due_at", "id"]
        constraints = [
            # One item per task and period, whoever (and however often) creates it. ``every``
            # is part of the period's name: a task moved from weekly to monthly gets June's
            # monthly item even though its weekly item of 1 June starts the same day.
            models.UniqueConstraint(
                fields=["task", "every", "period_start"],
                condition=Q(release__isnull=True),
                name="uniq_routine_item_period",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="routine_item_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(done_at__isnull=True) | ~Q(note="") | ~Q(evidence=""),
                name="routine_item_done_with_evidence",
            ),
        ]
        indexes = [
            # The reminder sweep's only read: overdue, not done, not yet reminded. Done items
            # are not in it at all, however many years of them pile up.
            models.Index(
                fields=["due_at"],
                condition=Q(done_at__isnull=True, reminded_at__isnull=True),
                name="routine_item_remind_due",
            ),
            models.Index(fields=["due_at"], name="routine_item_due"),
            # The admin list filtered by service, in its order.
            models.Index(fields=["service", "-due_at", "id"], name="routine_item_service_due"),
        ]

    def __str__(self):
        return f"{self.task.name} — {self.label}"

    def get_absolute_url(self):
        return reverse("admin:routine_routineitem_change", args=[self.pk])

    def is_overdue(self, now):
        return self.done_at is None and self.due_at <= now

    @property
    def has_results(self):
        return self.rto_achieved is not None or self.rpo_achieved is not None

    def result_lines(self):
        """``[("RTO", "45m", "1h", True), …]`` for what has been recorded."""
        lines = []
        for name, achieved, target, met in (
            ("RTO", self.rto_achieved, self.rto_target, self.rto_met),
            ("RPO", self.rpo_achieved, self.rpo_target, self.rpo_met),
        ):
            if achieved is not None:
                lines.append((name, format_span(achieved), target, met))
        return lines
