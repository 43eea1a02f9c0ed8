"""Maintenance policy and windows of a service (from its plan's `maintenance:`).

Occurrences, per-occurrence exceptions and notices are built on these by the maintenance issue.
Rules are the plan's own (``sla.plan.rules``), so admin refuses what the loader refuses.
"""

import secrets
from datetime import date

from django.conf import settings
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

    @property
    def minutes(self):
        return rules.duration_minutes(self.duration)

    @property
    def anchor(self):
        """The rule's DTSTART date: 1 January of the year before the window was created.

        The plan format has no DTSTART; like the loader's slot check, a rule starts on a
        1 January. A year earlier, so the calendar can show the recent past.
        """
        created = self.created_at or timezone.now()
        return date(created.year - 1, 1, 1)

    def slots(self, range_start, range_end):
        from .occurrences import expand

        return expand(
            rrule=self.rrule,
            on_date=self.date,
            start=self.start,
            minutes=self.minutes,
            tz_name=self.timezone,
            anchor=self.anchor,
            range_start=range_start,
            range_end=range_end,
        )

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


class OccurrenceException(models.Model):
    """One occurrence of a window cancelled or moved: an exception to its rule (or one-off)."""

    window = models.ForeignKey(
        MaintenanceWindow, on_delete=models.CASCADE, related_name="exceptions"
    )
    # The occurrence as the rule (or the one-off's date) places it, in UTC: its name for good.
    original_start = models.DateTimeField()
    cancelled = models.BooleanField(default=False)
    new_start = models.DateTimeField(null=True, blank=True)
    new_end = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["original_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "original_start"], name="uniq_occurrence_exception"
            ),
            models.CheckConstraint(
                condition=Q(cancelled=True)
                | (Q(new_start__isnull=False) & Q(new_end__gt=models.F("new_start"))),
                name="exception_cancels_or_moves",
            ),
        ]

    def __str__(self):
        what = "cancelled" if self.cancelled else f"moved to {self.new_start:%Y-%m-%d %H:%M} UTC"
        return f"{self.window}: {self.original_start:%Y-%m-%d %H:%M} UTC {what}"


def _token():
    return secrets.token_urlsafe(24)


class Subscription(models.Model):
    """Someone who hears of a service's maintenance by email.

    A customer of the service is subscribed by default (``user`` set, confirmed at once); anyone
    else subscribes by email on the status page and is confirmed by clicking the emailed link.
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="maintenance_subscriptions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="maintenance_subscriptions",
    )
    # For an email subscription; a customer's notices go to the user's current address.
    email = models.EmailField(blank=True)
    # What the subscriber chose to hear of the service (both unless they chose otherwise); the
    # senders' selectors read only the subscriptions that want what they send.
    maintenance = models.BooleanField(
        default=True, help_text="Maintenance notices, changes, cancellations, the calendar."
    )
    incidents = models.BooleanField(default=True, help_text="Public incident updates.")
    # The credential of its links (unsubscribe, confirm): never shown, not even in the admin.
    token = models.CharField(max_length=64, unique=True, default=_token, editable=False)
    # Goes up each time the subscription is turned off. A confirm link carries the version it
    # was issued for, so an unsubscribe voids every confirm link sent before it.
    confirm_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "user"],
                condition=Q(user__isnull=False),
                name="uniq_subscription_user",
            ),
            models.UniqueConstraint(
                fields=["service", "email"],
                condition=Q(user__isnull=True),
                name="uniq_subscription_email",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""), name="subscription_has_address"
            ),
        ]

    def __str__(self):
        return f"{self.user or self.email} → {self.service}"

    @property
    def address(self):
        return self.user.email if self.user_id else self.email

    @property
    def active(self):
        return self.confirmed_at is not None and self.unsubscribed_at is None


class NoticeRound(models.Model):
    """One email to every subscriber: a lead-time notice, an update, a cancellation, a digest.

    ``key`` names it ("notice:<window>:<occurrence>:48h", "digest:<service>:2027Q1"), so two
    sweeps create it once. Its recipients are worked through in batches by subscription id;
    ``cursor`` is the last id done, committed with that batch's deliveries and outbox rows.
    """

    class Kind(models.TextChoices):
        NOTICE = "notice", "Notice"
        UPDATED = "updated", "Updated"
        CANCELLED = "cancelled", "Cancelled"
        DIGEST = "digest", "Quarterly calendar"

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        DONE = "done", "Sent"
        SKIPPED = "skipped", "Skipped (a later notice came due)"
        STOPPED = "stopped", "Stopped (occurrence changed or started)"

    key = models.CharField(max_length=200, unique=True)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="notice_rounds")
    window = models.ForeignKey(
        MaintenanceWindow,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notice_rounds",
    )
    occurrence_start = models.DateTimeField(
        help_text="The occurrence's original start (UTC), or the digest's quarter start."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    lead = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The occurrence as announced (a move changes them before its "updated" round).
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0)
    recorded = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurrence_start", "-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="notice_round_pending",
            ),
            models.Index(fields=["window", "occurrence_start"], name="notice_round_occurrence"),
        ]

    def __str__(self):
        return self.key


class NoticeDelivery(models.Model):
    """One subscriber's email of one round: recorded once, whatever runs twice or crashes."""

    round = models.ForeignKey(NoticeRound, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    notification_key = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "subscription"], name="uniq_notice_delivery")
        ]
        verbose_name_plural = "notice deliveries"

    def __str__(self):
        return self.notification_key
