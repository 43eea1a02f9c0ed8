"""Customer organisations, the plan's support contract each holds month by month, and the time
staff log on their tickets.

An organisation is a customer of one service: its contract comes from that service's plan and
its support month runs in that service's time zone (``core.periods.month_bounds``). A user
belongs to at most one organisation (``OrganizationMember.user`` is unique).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Whose plan the contracts come from, and whose time zone the support month follows.
    service = models.ForeignKey(
        "sla.Service", on_delete=models.PROTECT, related_name="organizations"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="OrganizationMember",
        related_name="+",
        blank=True,
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Off by default: a member sees only their own tickets unless the organisation agrees that
    # colleagues may read and follow each other's tickets of its service.
    colleagues_see_tickets = models.BooleanField(
        "colleagues see each other's tickets",
        default=False,
        help_text="Members may read, reply to and follow every ticket of the organisation's "
        "service filed by a member.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class OrganizationDomain(models.Model):
    """An email domain of the organisation: whoever verifies an address on it joins it (and
    its service) at once. A domain names one organisation (unique), stored lower-case."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_domains"
    )
    domain = models.CharField(max_length=253, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]
        verbose_name = "email domain"

    def __str__(self):
        return self.domain


class OrganizationMember(models.Model):
    """A customer user of the organisation; they see its support hours on their dashboard."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    # One organisation per user: whose hours a ticket's time counts against is never ambiguous.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_membership"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "id"]
        verbose_name = "member"

    def __str__(self):
        return f"{self.user} ∈ {self.organization}"


class ContractPeriod(models.Model):
    """From ``starts_on`` (the first day of a month) the organisation holds ``contract``.

    The contract of a month is that of the latest period starting on or before it, so the rows
    are the contract's history: a change applies to whole months, from the month it names, and
    months before it keep the contract they had. A null contract ends the previous one.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contract_periods"
    )
    starts_on = models.DateField(help_text="The first day of the first month it applies to.")
    # PROTECT: a plan cannot drop a contract an organisation holds or held (its history).
    contract = models.ForeignKey(
        "sla.SupportContract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="periods",
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "starts_on"], name="uniq_contract_period_start"
            )
        ]

    def __str__(self):
        return f"{self.organization}: {self.contract or 'no contract'} from {self.starts_on:%Y-%m}"


class TimeEntry(models.Model):
    """Minutes a staff member worked on a ticket.

    ``organization`` is whose hours the entry counts against, fixed when it is logged: the
    ticket's customer's organisation, when the ticket is for that organisation's service. A
    later change of membership does not move time already billed.

    Entries are never edited or deleted: a mistake is voided (with who, when and why) and the
    right time logged again, so the month's figures can always be explained.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="time_entries"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_entries",
    )
    minutes = models.PositiveIntegerField()
    # When the work was done (the month it counts in); may be earlier than created_at.
    worked_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    void_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-worked_at", "-id"]
        verbose_name_plural = "time entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0), name="time_entry_minutes_positive"
            ),
        ]
        indexes = [
            # "The month's minutes of an organisation": a range scan of the live entries only.
            models.Index(
                fields=["organization", "worked_at"],
                condition=models.Q(voided_at__isnull=True),
                name="time_entry_org_month",
            ),
        ]

    def __str__(self):
        return f"{self.minutes} min on #{self.ticket_id} by {self.staff}"

    @property
    def voided(self):
        return self.voided_at is not None


class UsageAlert(models.Model):
    """The organisation's use of a month reached ``threshold`` % of its hours; emailed once.

    The unique row is what makes "once per month each" hold: the emails are recorded in the
    transaction that creates it, and a second crossing in the same month finds it.
    """

    class Threshold(models.IntegerChoices):
        WARNING = 80, "80 %"
        EXHAUSTED = 100, "100 %"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="usage_alerts"
    )
    month = models.DateField(help_text="The first day of the month.")
    threshold = models.PositiveSmallIntegerField(choices=Threshold.choices)
    contract = models.ForeignKey(
        "sla.SupportContract", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_minutes = models.PositiveIntegerField()
    included_minutes = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "organization", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "threshold"], name="uniq_usage_alert"
            )
        ]

    def __str__(self):
        return f"{self.organization} {self.month:%Y-%m}: {self.threshold} %"
