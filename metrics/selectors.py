"""The dashboard's reads: aggregates computed by PostgreSQL, a fixed number of queries.

No ticket is loaded into Python. Each ticket query returns one row per (local week, priority)
— at most ~105 weeks × a handful of priorities — whatever the size of the ticket table; the
report adds those rows up. The two ticket queries read through the indexes
``ticket_metrics_created`` and ``ticket_metrics_resolved`` (service, time), so their cost
follows the tickets of the chosen service and period, not the table.
"""

from zoneinfo import ZoneInfo

from django.db.models import Count, DateField, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncWeek

from incidents.models import Incident
from sla.models import Priority, Service, ServiceTargets
from sla.selectors import limit_to_staff_services
from tickets.models import Ticket


def _elapsed(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _by_local_week(*, service, period, moment):
    """The service's tickets whose ``moment`` column falls in the period, grouped by (local
    week, priority): the caller's aggregates give one row per group."""
    return (
        Ticket.objects.filter(
            service=service, **{f"{moment}__gte": period.start, f"{moment}__lt": period.end}
        )
        .annotate(
            week=TruncWeek(moment, output_field=DateField(), tzinfo=ZoneInfo(service.timezone))
        )
        # Without clearing Meta.ordering, its columns would join the GROUP BY.
        .order_by()
        .values("week", "priority_id")
    )


def services(*, user):
    """The services ``user`` works (every one unless limited), for the picker (one query)."""
    return list(
        limit_to_staff_services(Service.objects.all(), user=user, field="pk")
        .order_by("name", "pk")
        .only("slug", "name", "timezone")
    )


def targets_of(service):
    """The plan's ``targets:`` of the service, or None when the plan sets none."""
    return ServiceTargets.objects.filter(service=service).first()


def priorities_of(service):
    """All the service's priorities, retired ones too (old tickets may carry them)."""
    return list(Priority.objects.filter(service=service).order_by("position", "pk"))


def opened_by_week(*, service, period, now):
    """Per (local week, priority): the tickets opened in the period, and how their timers went
    (a values() queryset of dicts, evaluated once by the report).

    A timer still running past its deadline at ``now`` counts as missed already (the breach
    has happened; only the moment of the reply is unknown). A paused resolution timer is not
    judged while paused, since the pause moves its deadline.
    """
    response_overdue = Q(response_met__isnull=True, response_due_at__lt=now)
    resolution_overdue = Q(
        resolution_met__isnull=True, resolution_due_at__lt=now, paused_at__isnull=True
    )
    return _by_local_week(service=service, period=period, moment="created_at").annotate(
        opened=Count("pk"),
        responded=Count("pk", filter=Q(first_response_at__isnull=False)),
        response_time=Sum(_elapsed("first_response_at", "created_at")),
        responses_met=Count("pk", filter=Q(response_met=True)),
        responses_missed=Count("pk", filter=Q(response_met=False)),
        responses_overdue=Count("pk", filter=response_overdue),
        resolutions_met=Count("pk", filter=Q(resolution_met=True)),
        resolutions_missed=Count("pk", filter=Q(resolution_met=False)),
        resolutions_overdue=Count("pk", filter=resolution_overdue),
        resolutions_running=Count(
            "pk",
            filter=Q(resolution_met__isnull=True, resolution_due_at__isnull=False)
            & ~resolution_overdue,
        ),
        resolved_since=Count("pk", filter=Q(resolved_at__isnull=False)),
    )


def resolved_by_week(*, service, period):
    """Per (local week, priority): the tickets resolved in the period, their time to resolve
    (wall clock, from creation) and their customers' ratings."""
    return _by_local_week(service=service, period=period, moment="resolved_at").annotate(
        resolved=Count("pk"),
        resolve_time=Sum(_elapsed("resolved_at", "created_at")),
        rated=Count("rating"),
        rating_sum=Sum("rating"),
    )


def outages_started(*, service, period):
    """The outage incidents that started in the period: how many, and how long the restored
    ones took (start to resolve)."""
    return Incident.objects.filter(
        service=service, outage=True, started_at__gte=period.start, started_at__lt=period.end
    ).aggregate(
        outages=Count("pk"),
        restored=Count("pk", filter=Q(resolved_at__isnull=False)),
        restore_time=Sum(_elapsed("resolved_at", "started_at")),
    )
