"""The dashboard's reads: aggregates computed by the database, a fixed number of queries.

No ticket is loaded into Python. The report reads per (local week, priority) rows — at most
~105 weeks × a handful of priorities — whatever the size of the ticket table, and adds them up.

They come from the rollup (``models.OpenedDay``, ``ResolvedDay``: per local day, refreshed
by ``services.rollup_refresh`` before they are read), plus one live count of the timers of the
period's tickets that are due after ``now`` (whether a running timer is overdue depends on the
moment of reading, so the rollup counts running timers and this count takes away the ones not
yet due). ``opened_by_week`` and ``resolved_by_week`` compute the same rows from the tickets
themselves, through the indexes ``ticket_metrics_created`` and ``ticket_metrics_resolved``
(service, time), always fresh, for any caller: the rollup's definition, and what a period whose
edges the rollup cannot cut answers from (``days.period_matches_dates``).
"""

from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncDate, TruncWeek

from incidents.models import Incident
from sla.models import Priority, Service, ServiceTargets
from sla.selectors import limit_to_staff_services
from tickets.models import Ticket

from . import days
from .models import OpenedDay, ResolvedDay, RollupState, StaleDay


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


# --- what the tickets of one day add up to: the rollup's definition -----------------------

# Per ticket opened: a timer not stopped (met is null) with a deadline is pending; whether it
# is overdue or still running depends on ``now`` (see ``rollup_opened_by_week``).
_RESPONSE_PENDING = Q(response_met__isnull=True, response_due_at__isnull=False)
_RESOLUTION_PENDING = Q(resolution_met__isnull=True, resolution_due_at__isnull=False)


def _opened_sums():
    return {
        "opened": Count("pk"),
        "responded": Count("pk", filter=Q(first_response_at__isnull=False)),
        "response_time": Sum(_elapsed("first_response_at", "created_at")),
        "responses_met": Count("pk", filter=Q(response_met=True)),
        "responses_missed": Count("pk", filter=Q(response_met=False)),
        "responses_pending": Count("pk", filter=_RESPONSE_PENDING),
        "resolutions_met": Count("pk", filter=Q(resolution_met=True)),
        "resolutions_missed": Count("pk", filter=Q(resolution_met=False)),
        "resolutions_pending": Count("pk", filter=_RESOLUTION_PENDING),
        "resolutions_pending_unpaused": Count(
            "pk", filter=_RESOLUTION_PENDING & Q(paused_at__isnull=True)
        ),
        "resolved_since": Count("pk", filter=Q(resolved_at__isnull=False)),
    }


def _resolved_sums():
    return {
        "resolved": Count("pk"),
        "resolve_time": Sum(_elapsed("resolved_at", "created_at")),
        "rated": Count("rating"),
        "rating_sum": Sum("rating"),
    }


_SUMS = {OpenedDay: _opened_sums, ResolvedDay: _resolved_sums}


def daily(model, moment, service):
    """The service's tickets by (local date of ``moment``, priority) with ``model``'s sums: the
    rows of the rollup table ``model`` (``services.rollup_refresh`` inserts them)."""
    return (
        Ticket.objects.filter(service=service, **{f"{moment}__isnull": False})
        .annotate(day=TruncDate(moment, tzinfo=ZoneInfo(service.timezone)))
        .order_by()
        .values("day", "priority_id")
        .annotate(**_SUMS[model]())
    )


def rollup_status(service):
    """``(zone, stale)``: the zone the service's rollup was built in (None: never built) and
    whether ticket writes have made some of its days stale since (one query)."""
    services = _with_rollup_status(Service.objects.filter(pk=service.pk))
    row = services.values("rollup_zone", "stale").get()
    return row["rollup_zone"], row["stale"]


def services_with_outdated_rollups():
    """The services whose rollup a report would refresh first: never built, built in another
    zone, or with stale days (one query), each annotated with ``rollup_zone``."""
    return (
        _with_rollup_status(Service.objects.all())
        .filter(Q(stale=True) | Q(rollup_zone__isnull=True) | ~Q(rollup_zone=F("timezone")))
        .order_by("pk")
    )


def _with_rollup_status(services):
    return services.annotate(
        rollup_zone=Subquery(
            RollupState.objects.filter(service=OuterRef("pk")).values("timezone")[:1]
        ),
        stale=Exists(StaleDay.objects.filter(service_id=OuterRef("pk"))),
    )


# --- the report's rows -----------------------------------------------------------------------


def rollup_opened_by_week(*, service, period, now):
    """``opened_by_week``'s rows from the rollup, as fresh as its last refresh
    (``services.rollup_refresh``): a list of dicts, two queries (the rollup, and the timers
    due after ``now``)."""
    if not days.period_matches_dates(period):
        return list(opened_by_week(service=service, period=period, now=now))
    rows = _rollup_by_week(OpenedDay, service, period, list(_opened_sums()))
    later = {
        (row["week"], row["priority_id"]): row
        for row in _due_after(service=service, period=period, now=now)
    }
    result = []
    for row in rows:
        due_later = later.get((row["week"], row["priority_id"]), {})
        response_pending = row.pop("responses_pending")
        resolution_pending = row.pop("resolutions_pending")
        resolution_pending_unpaused = row.pop("resolutions_pending_unpaused")
        row["responses_overdue"] = response_pending - due_later.get("responses_later", 0)
        row["resolutions_overdue"] = resolution_pending_unpaused - due_later.get(
            "resolutions_later", 0
        )
        row["resolutions_running"] = resolution_pending - row["resolutions_overdue"]
        result.append(row)
    return result


def rollup_resolved_by_week(*, service, period):
    """``resolved_by_week``'s rows from the rollup, as fresh as its last refresh (a list of
    dicts, one query)."""
    if not days.period_matches_dates(period):
        return list(resolved_by_week(service=service, period=period))
    return _rollup_by_week(ResolvedDay, service, period, list(_resolved_sums()))


def _rollup_by_week(model, service, period, names):
    return list(
        model.objects.filter(service=service, day__range=(period.first, period.last))
        .annotate(week=TruncWeek("day", output_field=DateField()))
        .order_by()
        .values("week", "priority_id")
        .annotate(**{name: Sum(name) for name in names})
    )


def _due_after(*, service, period, now):
    """Per (local week, priority), the period's tickets whose response, or unpaused
    resolution, timer runs with a deadline after ``now``: few (the recent tickets), read
    through the deadline indexes."""
    response_later = Q(response_met__isnull=True, response_due_at__gte=now)
    resolution_later = Q(resolution_met__isnull=True, resolution_due_at__gte=now)
    return (
        _by_local_week(service=service, period=period, moment="created_at")
        .filter(response_later | resolution_later)
        .annotate(
            responses_later=Count("pk", filter=response_later),
            resolutions_later=Count("pk", filter=resolution_later & Q(paused_at__isnull=True)),
        )
    )


# --- the same rows from the tickets themselves ----------------------------------------------


def opened_by_week(*, service, period, now):
    """Per (local week, priority): the tickets opened in the period, and how their timers went,
    computed from the tickets (a values() queryset of dicts, evaluated once by the caller).

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
    (wall clock, from creation) and their customers' ratings, computed from the tickets (a
    values() queryset of dicts)."""
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
