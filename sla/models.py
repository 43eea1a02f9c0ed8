"""A service and the SLA side of its plan: calendars, priorities and support tiers.

Durations are kept as the plan wrote them (``15m``, ``4h``, ``2bd``): a business-day duration
is not a fixed span of time, so only the SLA clock can turn one into a deadline.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .durations import validate_duration
from .plan import rules
from .plan.rules import RuleError


def _rule(field, check, *args, **kwargs):
    """Run one of the plan's rules and report its message on ``field``, as the loader would."""
    try:
        return check(*args, **kwargs)
    except RuleError as exc:
        raise ValidationError({field: exc.message}) from None


class Service(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")
    contact = models.EmailField(blank=True)
    # The plan's ``service.inbound``: more addresses whose mail opens tickets of this service,
    # besides ``contact`` (docs/email.md).
    inbound = models.JSONField(default=list, blank=True)
    # The plan's ``service.phone``: the support line shown to customers, with the hours of the
    # tier whose contact names it (the support page).
    phone = models.CharField(max_length=50, blank=True)
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

    def clean(self):
        _rule("timezone", rules.check_timezone, self.timezone)


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


class StaffService(models.Model):
    """A staff member limited to some services: one row per service they work.

    A member with no row works every service (as before scoping existed); a member with rows
    sees tickets, incidents, routine items, reports and emails of those services only. Managed
    service providers use it to keep one customer's team out of another customer's data.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_services"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="staff_scopes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "service"], name="uniq_staff_service")
        ]
        verbose_name = "service this staff member works"

    def __str__(self):
        return f"{self.user} works {self.service}"


class Calendar(models.Model):
    """Weekly open hours in a time zone, minus holidays. ``24/7`` is always open."""

    ALWAYS_OPEN = "24/7"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="calendars")
    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "18:00"]], ...}; a weekday that is absent is closed.
    hours = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="uniq_calendar_name")
        ]

    def __str__(self):
        return f"{self.service.slug}: {self.name}"

    def clean(self):
        _rule("timezone", rules.check_timezone, self.timezone)
        self.hours = _rule("hours", rules.check_week, self.hours)
        if not self.hours:
            raise ValidationError({"hours": "a calendar needs at least one open interval"})

    @property
    def is_always_open(self):
        return self.name == self.ALWAYS_OPEN


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
        # RESTRICT, not PROTECT: a calendar in use cannot go, but the whole service can.
        Calendar,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
    )
    uptime = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    start_tier = models.PositiveSmallIntegerField(default=1)
    notify_management = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    # A priority dropped from the plan is retired, not deleted, while tickets still use it.
    retired_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "position"]
        verbose_name_plural = "priorities"
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="uniq_priority_code")
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"

    def clean(self):
        if self.uptime is not None:
            _rule("uptime", rules.parse_percent, self.uptime)
        if self.calendar_id and self.service_id and self.calendar.service_id != self.service_id:
            raise ValidationError({"calendar": "the calendar belongs to another service"})
        levels = set(
            Tier.objects.filter(service_id=self.service_id).values_list("level", flat=True)
        )
        if levels and self.start_tier not in levels:
            raise ValidationError(
                {
                    "start_tier": f"tier {self.start_tier} is not one of the plan's tier levels "
                    f"({', '.join(map(str, sorted(levels)))})"
                }
            )

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
        # RESTRICT, not PROTECT: a calendar in use cannot go, but the whole service can.
        Calendar,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
    )
    pickup = models.CharField(max_length=20, blank=True, default="", validators=[validate_duration])
    on_call = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "level"]
        constraints = [models.UniqueConstraint(fields=["service", "level"], name="uniq_tier_level")]

    def __str__(self):
        return f"Tier {self.level} — {self.name}"

    def clean(self):
        if self.calendar_id and self.service_id and self.calendar.service_id != self.service_id:
            raise ValidationError({"calendar": "the calendar belongs to another service"})


class EscalationPolicy(models.Model):
    """How a service's timers warn and escalate, and the shape of its on-call rotation."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, related_name="escalation_policy"
    )
    # Percent of a timer after which the ticket is "at risk"; null: no warning.
    warn_at = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    management_chain = models.JSONField(default=list, blank=True, help_text="Role names, in order.")
    management_interval = models.CharField(
        max_length=20, blank=True, default="", validators=[validate_duration]
    )
    pause_statuses = models.JSONField(default=list, blank=True)
    # On-call shape (plan `on_call:`); an empty handoff means the plan has no on_call section.
    on_call_handoff = models.CharField(
        max_length=20, blank=True, default="", help_text='Weekly handoff, e.g. "mon 09:00".'
    )
    on_call_layers = models.JSONField(default=list, blank=True)
    # Plan `on_call.acknowledge`: a page to the primary not acknowledged within this goes to
    # the secondary (paging.oncall); empty: every layer is told at once.
    on_call_acknowledge = models.CharField(
        max_length=20, blank=True, default="", validators=[validate_duration]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "escalation policies"

    def __str__(self):
        return f"escalation policy of {self.service}"

    def clean(self):
        if self.warn_at is not None:
            _rule("warn_at", rules.check_warn_at, self.warn_at)
        for status in self.pause_statuses or ():
            if status not in rules.PAUSABLE_STATUSES:
                raise ValidationError(
                    {"pause_statuses": f"{status!r} is not a status a timer can pause in"}
                )
        if len(self.management_chain or ()) > 1 and not self.management_interval:
            raise ValidationError(
                {
                    "management_interval": "a management chain of more than one role needs "
                    "management_interval"
                }
            )
        if self.on_call_handoff:
            self.on_call_handoff = _rule(
                "on_call_handoff", rules.check_handoff, self.on_call_handoff
            )


class IncidentPolicy(models.Model):
    """The plan's incident process (built on by the operations issue)."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, related_name="incident_policy"
    )
    postmortem_due = models.CharField(
        max_length=20, blank=True, default="", validators=[validate_duration]
    )
    steps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "incident policies"

    def __str__(self):
        return f"incident policy of {self.service}"


class SupportContract(models.Model):
    """A support contract offered for the service: hours a month at a monthly price."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="contracts")
    name = models.CharField(max_length=100)
    hours_per_month = models.PositiveIntegerField()
    monthly_cost = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    includes = models.CharField(max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Dropped from the plan while organisations hold it: kept for their history, offered no more.
    retired_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service", "position"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="uniq_contract_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.hours_per_month} h/month)"


class ServiceTargets(models.Model):
    """Success metrics the portal reports against (plan `targets:`); durations as written."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="targets")
    uptime = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    mttr = models.CharField(max_length=20, blank=True, validators=[validate_duration])
    mtbf = models.CharField(max_length=20, blank=True, validators=[validate_duration])
    first_response_avg = models.CharField(max_length=20, blank=True, validators=[validate_duration])
    resolution_rate = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    csat = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    rto = models.CharField(max_length=20, blank=True, validators=[validate_duration])
    rpo = models.CharField(max_length=20, blank=True, validators=[validate_duration])
    p95_response_ms = models.PositiveIntegerField(null=True, blank=True)
    error_rate = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    concurrent_users = models.PositiveIntegerField(null=True, blank=True)
    # [{"name": "Critical systems", "rto": "4h", "rpo": "1h"}, ...]
    recovery = models.JSONField(default=list, blank=True)
    # Names of the targets the plan wrote with < or > ("MTTR < 4 hours"): a value exactly on
    # one of them is missed. The others are reached by a value on them.
    strict = models.JSONField(
        default=list,
        blank=True,
        help_text='Targets to beat, not just reach (written "<4h", ">95" in the plan).',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "service targets"

    def __str__(self):
        return f"targets of {self.service}"

    def clean(self):
        for name in ("uptime", "resolution_rate", "error_rate"):
            if getattr(self, name) is not None:
                _rule(name, rules.parse_percent, getattr(self, name))
        names = {field.name for field in self._meta.concrete_fields}
        unknown = [name for name in self.strict or () if name not in names or name == "recovery"]
        if unknown:
            raise ValidationError({"strict": f"not targets: {', '.join(map(str, unknown))}"})

    def is_strict(self, name):
        return name in (self.strict or ())

    def worded(self, name):
        """A target as the plan words it: ``"<4h"`` when strict, else the value as stored."""
        return rules.target_text(name, getattr(self, name), strict=self.is_strict(name))


class OnCallMember(models.Model):
    """One engineer in a tier's weekly on-call rotation, in rotation order (``position``)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="on_call_members")
    tier_level = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["service", "tier_level", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "tier_level", "user"], name="uniq_on_call_member"
            )
        ]
        verbose_name = "on-call rotation member"

    def __str__(self):
        return f"{self.user} (Tier {self.tier_level}, #{self.position})"


class OnCallOverride(models.Model):
    """Someone else holds a layer of a tier's rotation for a while: a holiday, a swap."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="on_call_overrides")
    tier_level = models.PositiveSmallIntegerField()
    layer = models.CharField(max_length=40, default="primary")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["service", "tier_level", "starts_at"]
        indexes = [
            models.Index(fields=["service", "tier_level", "ends_at"], name="on_call_override_end")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="on_call_override_ends_after_start",
            )
        ]
        verbose_name = "on-call override"

    def __str__(self):
        return f"{self.layer} of Tier {self.tier_level}: {self.user}"


class ManagementContact(models.Model):
    """Who holds a role of the service's management chain (``EscalationPolicy.management_chain``).

    A role may have several contacts; each gets the role's notice. ``email`` is for people
    without an account; with a user, the user's address is used.

    ``from_plan``: written by ``load_plan`` from a chain entry ``{role, email}``. The plan owns
    those rows (a reload replaces them to match the file); rows staff add in admin are theirs
    and no load touches them.
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="management_contacts"
    )
    role = models.CharField(max_length=100, help_text="A role name of the management chain.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True)
    from_plan = models.BooleanField(
        default=False,
        editable=False,
        help_text="Set from the plan file's management_chain; the next load replaces it.",
    )

    class Meta:
        ordering = ["service", "role", "id"]
        verbose_name = "management contact"

    def __str__(self):
        return f"{self.role}: {self.address}"

    def clean(self):
        if not self.user_id and not self.email:
            raise ValidationError("Choose a user or give an email address.")
        if self.service_id:
            policy = EscalationPolicy.objects.filter(service_id=self.service_id).first()
            chain = list(policy.management_chain) if policy else []
            if self.role not in chain:
                raise ValidationError(
                    {"role": f"the management chain is {', '.join(chain) or 'empty'}"}
                )

    @property
    def address(self):
        if self.user_id and self.user.email:
            return self.user.email
        return self.email
