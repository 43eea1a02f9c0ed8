"""What the API shows and accepts. Output shapes mirror the portal's pages (customers) and
the admin (staff); inputs are only parsed here, every rule is the services'."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import TimeEntry
from incidents.models import Impact, Incident, IncidentUpdate, UpdateStatus
from maintenance.models import MaintenanceWindow
from sla.models import Priority, Service, Tier
from tickets.models import Attachment, Message, Ticket


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = serializers.DictField(required=False)


# --- tickets ---------------------------------------------------------------------------------


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as its customer sees it on the portal."""

    number = serializers.CharField(read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    priority = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "status",
            "service",
            "priority",
            "customer",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# Columns a list row reads (a ticket row holds a dozen SLA timestamps nobody listed here).
TICKET_LIST_ONLY = (
    "subject",
    "status",
    "created_at",
    "updated_at",
    "service__slug",
    "priority__code",
    "customer__email",
)


class TicketDetailSerializer(TicketSerializer):
    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "description",
            "resolved_at",
            "closed_at",
            "rating",
            "rating_comment",
            "follow_up_of",
        ]
        read_only_fields = fields


class StaffTicketSerializer(TicketSerializer):
    """A ticket as staff see it in the admin list: with tier, assignee and deadlines."""

    assignee = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "tier",
            "assignee",
            "response_due_at",
            "resolution_due_at",
            "next_due_at",
        ]
        read_only_fields = fields


STAFF_TICKET_LIST_ONLY = (
    *TICKET_LIST_ONLY,
    "tier",
    "assignee__email",
    "response_due_at",
    "resolution_due_at",
    "next_due_at",
)


class StaffTicketDetailSerializer(StaffTicketSerializer):
    read_only = serializers.SerializerMethodField(
        help_text="True when the ticket moved past the member's tier: they worked it and may "
        "read it, not change it."
    )

    class Meta(StaffTicketSerializer.Meta):
        fields = [
            *StaffTicketSerializer.Meta.fields,
            *[
                f
                for f in TicketDetailSerializer.Meta.fields
                if f not in TicketSerializer.Meta.fields
            ],
            "first_response_at",
            "read_only",
        ]
        read_only_fields = fields

    def get_read_only(self, ticket) -> bool:
        return not getattr(ticket, "api_may_change", True)


class TicketCreateSerializer(serializers.Serializer):
    service = serializers.SlugField(help_text="The service's slug (see /services/).")
    priority = serializers.CharField(max_length=20, help_text="A priority code of the service.")
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField()
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )


class AttachmentSerializer(serializers.ModelSerializer):
    message = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "message", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return f"/api/v1/tickets/{attachment.ticket_id}/attachments/{attachment.pk}/"


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="email", read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "author", "body", "internal", "created_at", "attachments"]
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(trim_whitespace=False)
    internal = serializers.BooleanField(
        default=False, help_text="An internal note (staff only): never shown to the customer."
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices)


class PrioritySerializer(serializers.Serializer):
    priority = serializers.CharField(max_length=20, help_text="A priority code of the service.")


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        allow_null=True, help_text="A staff member's user id; null to unassign."
    )


class EscalateSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=300)


# --- services and their SLA table --------------------------------------------------------------


class PriorityTargetSerializer(serializers.ModelSerializer):
    calendar = serializers.SerializerMethodField()

    class Meta:
        model = Priority
        fields = [
            "code",
            "name",
            "description",
            "response",
            "resolution",
            "calendar",
            "uptime",
            "start_tier",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_calendar(self, priority):
        return priority.calendar.name if priority.calendar_id else None


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["level", "name", "scope", "contact", "pickup", "on_call"]
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["slug", "name", "timezone", "contact", "phone"]
        read_only_fields = fields


class ServiceDetailSerializer(ServiceSerializer):
    priorities = serializers.SerializerMethodField(help_text="The SLA table, by position.")
    tiers = TierSerializer(many=True, read_only=True)

    class Meta(ServiceSerializer.Meta):
        fields = [*ServiceSerializer.Meta.fields, "priorities", "tiers"]
        read_only_fields = fields

    @extend_schema_field(PriorityTargetSerializer(many=True))
    def get_priorities(self, service):
        return PriorityTargetSerializer(service.current_priorities, many=True).data


# --- maintenance -----------------------------------------------------------------------------


class WindowSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    # Wall-clock time in the window's zone: a plain string, not an RFC 3339 time (which would
    # need an offset the window does not have — it changes with DST).
    start = serializers.CharField(read_only=True, help_text="Local start time, HH:MM:SS.")

    class Meta:
        model = MaintenanceWindow
        fields = [
            "id",
            "service",
            "name",
            "category",
            "rrule",
            "date",
            "start",
            "duration",
            "timezone",
            "impact",
        ]
        read_only_fields = fields


class OccurrenceSerializer(serializers.Serializer):
    window = serializers.IntegerField(source="window.pk")
    service = serializers.CharField(source="window.service.slug")
    name = serializers.CharField(source="window.name")
    category = serializers.CharField(source="window.category")
    impact = serializers.CharField(source="window.impact")
    original_start = serializers.DateTimeField(
        help_text="Names the occurrence for good, however often it is moved."
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    cancelled = serializers.BooleanField()
    moved = serializers.BooleanField()


class OccurrenceListSerializer(serializers.Serializer):
    results = OccurrenceSerializer(many=True)


class OccurrenceCancelSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(
        help_text="The occurrence's start (its original start, or where it was moved to)."
    )
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)


class OccurrenceMoveSerializer(OccurrenceCancelSerializer):
    new_start = serializers.DateTimeField()
    new_end = serializers.DateTimeField(required=False)


# --- incidents (staff) -----------------------------------------------------------------------


class IncidentUpdateSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = IncidentUpdate
        fields = ["id", "body", "public", "status", "author", "created_at"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    severity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "number",
            "service",
            "severity",
            "title",
            "impact",
            "step",
            "owner",
            "started_at",
            "resolved_at",
            "published_at",
            "updated_at",
        ]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    updates = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "updates"]
        read_only_fields = fields

    @extend_schema_field(IncidentUpdateSerializer(many=True))
    def get_updates(self, incident):
        updates = incident.updates.select_related("author").order_by("created_at", "id")
        return IncidentUpdateSerializer(updates, many=True).data


class IncidentCreateSerializer(serializers.Serializer):
    service = serializers.SlugField(help_text="The service's slug.")
    severity = serializers.CharField(max_length=20, help_text="A priority code of the service.")
    title = serializers.CharField(max_length=200, help_text="Public once published.")
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    started_at = serializers.DateTimeField(required=False)


class IncidentUpdateCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    public = serializers.BooleanField(default=False)
    status = serializers.ChoiceField(choices=UpdateStatus.choices, required=False)


class ContractUsageSerializer(serializers.Serializer):
    """An organisation's month (contracts.selectors.MonthUsage), as the portal's usage bar and
    the admin's organisation list show it."""

    organization = serializers.IntegerField(source="organization.pk")
    organization_name = serializers.CharField(source="organization.name")
    service = serializers.CharField(source="organization.service.slug")
    month = serializers.DateField(help_text="The month's first day.")
    contract = serializers.CharField(source="contract.name", allow_null=True, default=None)
    included_minutes = serializers.IntegerField()
    used_minutes = serializers.IntegerField()
    included_hours = serializers.CharField()
    used_hours = serializers.CharField()
    remaining_hours = serializers.CharField()
    percent = serializers.IntegerField(
        allow_null=True, help_text="Whole percent used, rounded down; null without hours."
    )
    level = serializers.ChoiceField(choices=["ok", "warning", "exhausted"])


class TimeEntrySerializer(serializers.ModelSerializer):
    staff = serializers.SlugRelatedField(slug_field="email", read_only=True)
    voided_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)

    class Meta:
        model = TimeEntry
        fields = [
            "id",
            "staff",
            "organization",
            "minutes",
            "worked_at",
            "note",
            "created_at",
            "voided_at",
            "voided_by",
            "void_reason",
        ]
        read_only_fields = fields


class TimeEntryCreateSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(help_text="Minutes worked (the service's limits apply).")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    at = serializers.DateTimeField(
        required=False, help_text="When the work was done (with a zone); default now."
    )


class TimeEntryVoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the entry is voided.")


class SubscriptionSerializer(serializers.Serializer):
    """What a customer hears of one of their services (the portal's subscriptions page): a
    service without a subscription row hears both, as customers are subscribed by default."""

    service = serializers.CharField(source="service.slug")
    service_name = serializers.CharField(source="service.name")
    maintenance = serializers.BooleanField()
    incidents = serializers.BooleanField()
    subscribed = serializers.BooleanField(help_text="False: hears nothing of the service.")


class SubscriptionListSerializer(serializers.Serializer):
    results = SubscriptionSerializer(many=True)


class SubscriptionCreateSerializer(serializers.Serializer):
    service = serializers.SlugField(help_text="One of your services' slugs.")
    maintenance = serializers.BooleanField(default=True)
    incidents = serializers.BooleanField(default=True)


class SubscriptionTopicsSerializer(serializers.Serializer):
    maintenance = serializers.BooleanField(required=False)
    incidents = serializers.BooleanField(required=False)


# --- success metrics (staff) -----------------------------------------------------------------


@extend_schema_field({"type": ["number", "null"]})
class FigureNumberField(serializers.Field):
    """A figure's number as a JSON number (whole minutes and counts as integers, percentages
    and scores rounded as the dashboard shows them), null when there is nothing to measure."""

    def to_representation(self, value):
        if value is None or isinstance(value, int):
            return value
        return float(value)


class MetricsTargetSerializer(serializers.Serializer):
    """The plan's target, in the figure's unit."""

    number = FigureNumberField()
    display = serializers.CharField(help_text="As the dashboard shows it: “≤ 4 h”, “> 95.0 %”.")
    higher_is_better = serializers.BooleanField()
    strict = serializers.BooleanField(help_text="The value must beat the target, not reach it.")


class MetricsFigureSerializer(serializers.Serializer):
    """One figure of the dashboard (metrics.figures.Figure): a line of its CSV export."""

    key = serializers.CharField(help_text="Stable name, the CSV's `metric` column.")
    label = serializers.CharField()
    number = FigureNumberField(help_text="In `unit`, rounded as shown; null: nothing to measure.")
    unit = serializers.ChoiceField(choices=["minutes", "percent", "score of 5", "count"])
    display = serializers.CharField(help_text="As the dashboard shows it (“4 h 30 min”, “—”).")
    detail = serializers.CharField()
    target = MetricsTargetSerializer(allow_null=True)
    result = serializers.ChoiceField(
        choices=["met", "missed", "no target", "no data"],
        allow_null=True,
        help_text="Against the target; null for a figure that takes no target.",
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["result"] = data["result"] or None
        return data


class MetricsPeriodSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["month", "quarter", "year", "custom"])
    value = serializers.CharField(help_text="`2026-11`, `2026-Q4`, `2026`; empty for custom.")
    label = serializers.CharField()
    first_day = serializers.DateField(source="first")
    last_day = serializers.DateField(source="last")
    timezone = serializers.CharField(source="tz", help_text="The service's; days are local.")
    start = serializers.DateTimeField(help_text="Local midnight opening the first day.")
    end = serializers.DateTimeField(help_text="Local midnight after the last day.")


class MetricsPriorityRowSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="“P1 — Critical”, or “All priorities” (last).")
    figures = serializers.SerializerMethodField()

    @extend_schema_field(MetricsFigureSerializer(many=True))
    def get_figures(self, row):
        return MetricsFigureSerializer(list(row.figures.values()), many=True).data


class MetricsWeekSerializer(serializers.Serializer):
    monday = serializers.DateField()
    label = serializers.CharField()
    partial = serializers.BooleanField(help_text="Some of its days fall outside the period.")
    opened = MetricsFigureSerializer()
    resolved = MetricsFigureSerializer()


class MetricsSerializer(serializers.Serializer):
    """The success-metrics dashboard of one service and period (metrics.report.Report)."""

    service = serializers.CharField(source="service.slug")
    period = MetricsPeriodSerializer()
    in_progress = serializers.BooleanField(help_text="The period has begun and is not over.")
    targets = MetricsFigureSerializer(
        many=True, help_text="Mean first response, MTTR, MTBF, resolution rate, CSAT."
    )
    volume = MetricsFigureSerializer(many=True)
    priorities = MetricsPriorityRowSerializer(
        many=True, help_text="SLA compliance per priority, then all priorities."
    )
    weeks = MetricsWeekSerializer(many=True, help_text="Opened and resolved per local week.")
