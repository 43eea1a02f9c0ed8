"""A service and the SLA side of its plan: calendars, priorities and support tiers.

Durations are kept as the plan wrote them (``15m``, ``4h``, ``2bd``): a business-day duration
is not a fixed span of time, so only the SLA clock can turn one into a deadline.
"""

from django.conf import settings
from django.db import models

from .durations import validate_duration


class Service(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    contact = models.EmailField(blank=True)
    customers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="ServiceCustomer",
        related_name="services",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ServiceCustomer(models.Model):
    """A customer may file tickets for the service (and hears of its maintenance)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "customer"], name="uniq_service_customer")
        ]
        verbose_name = "service customer"

    def __str__(self):
        return f"{self.customer} → {self.service}"


class Calendar(models.Model):
    """Weekly open hours in a time zone, minus holidays. ``24/7`` is always open."""

    ALWAYS_OPEN = "24/7"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="calendars")
    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "18:00"]], ...}; a weekday that is absent is closed.
    hours = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="uniq_calendar_name")
        ]

    def __str__(self):
        return f"{self.service.slug}: {self.name}"


class Holiday(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="uniq_holiday_date")
        ]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class Priority(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="priorities")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    response = models.CharField(max_length=20, validators=[validate_duration])
    resolution = models.CharField(
        max_length=20, blank=True, default="", validators=[validate_duration]
    )
    calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uptime = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    start_tier = models.PositiveSmallIntegerField(default=1)
    notify_management = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    # A priority dropped from the plan is retired, not deleted, while tickets still use it.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["service", "position"]
        verbose_name_plural = "priorities"
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="uniq_priority_code")
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"

    @property
    def label(self):
        """How a customer sees it: "P1 — High: Core feature broken, workaround available."."""
        if self.description:
            return f"{self.code} — {self.name}: {self.description}"
        return f"{self.code} — {self.name}"


class Tier(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="tiers")
    level = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    scope = models.TextField(blank=True)
    contact = models.CharField(max_length=200, blank=True)
    calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pickup = models.CharField(max_length=20, blank=True, default="", validators=[validate_duration])
    on_call = models.BooleanField(default=False)

    class Meta:
        ordering = ["service", "level"]
        constraints = [models.UniqueConstraint(fields=["service", "level"], name="uniq_tier_level")]

    def __str__(self):
        return f"Tier {self.level} — {self.name}"
