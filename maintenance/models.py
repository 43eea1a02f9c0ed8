"""Maintenance policy, windows and routine tasks of a service (from its plan's `maintenance:`).

Occurrences, per-occurrence exceptions and notices are built on these by the maintenance issue.
Rules are the plan's own (``sla.plan.rules``), so admin refuses what the loader refuses.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sla.durations import validate_duration
from sla.models import Service
from sla.plan import rules
from sla.plan.rules import RuleError


def _rule(field, check, *args, **kwargs):
    try:
        return check(*args, **kwargs)
    except RuleError as exc:
        raise ValidationError({field: exc.message}) from None


class MaintenancePolicy(models.Model):
    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, related_name="maintenance_policy"
    )
    # Lead times before each window at which subscribers hear of it: ["7d", "48h"].
    notices = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True, help_text="email, banner")
    quarterly_digest = models.CharField(
        max_length=20, blank=True, default="", validators=[validate_duration]
    )
    allowed = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text='Daily slot every window must fit in, e.g. "02:00-06:00 America/New_York".',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "maintenance policies"

    def __str__(self):
        return f"maintenance policy of {self.service}"

    def clean(self):
        notices = self.notices if isinstance(self.notices, list) else [self.notices]
        for notice in notices:
            _rule("notices", rules.check_duration, notice, business_days=False)
        for channel in self.channels or ():
            if channel not in rules.CHANNELS:
                raise ValidationError(
                    {"channels": f"unknown channel {channel!r}; use: {', '.join(rules.CHANNELS)}"}
                )
        if self.quarterly_digest:
            digest = _rule(
                "quarterly_digest",
                rules.check_duration,
                self.quarterly_digest,
                business_days=False,
            )
            if notices:
                longest = max(notices, key=rules.duration_minutes)
                if rules.duration_minutes(digest) < rules.duration_minutes(longest):
                    raise ValidationError(
                        {
                            "quarterly_digest": f"{digest} is shorter than the longest notice "
                            f"({longest}): the quarter's calendar must go out before any of "
                            "its windows' notices"
                        }
                    )
        if self.allowed:
            _rule("allowed", rules.parse_slot, self.allowed)
            if self.service_id:
                for window in self.service.maintenance_windows.filter(is_active=True):
                    try:
                        window.check_in_slot(self.allowed)
                    except RuleError as exc:
                        raise ValidationError(
                            {"allowed": f"{window.name}: {exc.message}"}
                        ) from None


class MaintenanceWindow(models.Model):
    """A recurring (RRULE) or one-off (date) window, in local wall-clock time of ``timezone``."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=50, default="general")
    rrule = models.CharField(
        max_length=500, blank=True, default="", help_text="e.g. FREQ=MONTHLY;BYDAY=+1MO"
    )
    date = models.DateField(null=True, blank=True, help_text="A one-off window's date.")
    start = models.TimeField(help_text="Local start time.")
    duration = models.CharField(max_length=20, validators=[validate_duration])
    timezone = models.CharField(max_length=64, default="UTC")
    impact = models.CharField(max_length=500, blank=True)
    # A window dropped from the plan is deactivated, so its history (notices) stays.
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "position"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="uniq_window_name"),
            models.CheckConstraint(
                condition=(Q(rrule="") & Q(date__isnull=False))
                | (~Q(rrule="") & Q(date__isnull=True)),
                name="window_rrule_xor_date",
            ),
        ]

    def __str__(self):
        return f"{self.service.slug}: {self.name}"

    @property
    def schedule(self):
        return self.rrule or f"once on {self.date}"

    def check_in_slot(self, slot):
        rules.check_window_in_slot(
            slot=slot,
            start=self.start,
            duration=self.duration,
            timezone=self.timezone,
            rrule=self.rrule or None,
            on_date=self.date,
            today=timezone.localdate(),
        )

    def clean(self):
        if bool(self.rrule) == (self.date is not None):
            raise ValidationError(
                "a window needs exactly one of `rrule` (recurring) or `date` (one-off)"
            )
        if self.rrule:
            self.rrule = _rule("rrule", rules.check_rrule, self.rrule)
        _rule("timezone", rules.check_timezone, self.timezone)
        if self.duration:
            _rule("duration", rules.check_duration, self.duration, business_days=False)
        if self.service_id and self.start is not None and self.duration and self.is_active:
            policy = MaintenancePolicy.objects.filter(service_id=self.service_id).first()
            if policy and policy.allowed:
                _rule("start", self.check_in_slot, policy.allowed)


class RoutineTask(models.Model):
    """A recurring checklist item of the plan (weekly backups verification, …)."""

    class Every(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        ANNUALLY = "annually", "Annually"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="routine_tasks")
    name = models.CharField(max_length=200)
    every = models.CharField(max_length=20, choices=Every.choices)
    category = models.CharField(max_length=50, default="general")
    tier = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Owner tier level.")
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
