"""The rollup's one write: recompute the stale days of a service from its tickets.

A fixed number of queries, whatever the number of tickets or of stale days: lock (upsert) the
service's ``RollupState``, take its ``StaleDay`` rows, then per table delete the days and insert
them again with one ``INSERT … SELECT`` aggregating the tickets in the database.
"""

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import days
from .models import OpenedDay, ResolvedDay, RollupState, StaleDay
from .selectors import daily, services_with_outdated_rollups


@transaction.atomic
def rollup_refresh(*, service, rebuild=False):
    """Recompute the service's stale days (every day when ``rebuild``: a service never rolled
    up, or whose zone changed), in its current zone.

    Concurrent refreshes of one service queue on the upsert of its state row: the second
    then finds the days the first took already gone, and reads what the first committed.
    Ticket writes never wait: the triggers append stale days, and rows appended after the
    ``DELETE … RETURNING`` (or not yet committed) stay for the next refresh.
    """
    RollupState.objects.bulk_create(
        [RollupState(service=service, timezone=service.timezone, refreshed_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["service"],
        update_fields=["timezone", "refreshed_at"],
    )
    utc_days = _take_stale_days(service.pk)
    dates = None if rebuild else days.runs(days.dates_of_utc_days(utc_days, service.timezone))
    if dates == []:
        return  # a concurrent refresh took them
    for model, moment in ((OpenedDay, "created_at"), (ResolvedDay, "resolved_at")):
        _recompute(model, moment, service, dates)


def rollups_refresh_outdated():
    """Refresh every service's rollup that a report would refresh first (the beat task
    ``metrics.tasks.refresh_metrics_rollups``), so the dashboard's first read after a busy
    day, a deploy or a zone change does not pay for it. Returns how many were refreshed.

    Safe twice and concurrently: each refresh queues on its service's state row, and one that
    finds the stale days already taken does nothing.
    """
    refreshed = 0
    for service in services_with_outdated_rollups():
        rollup_refresh(service=service, rebuild=service.rollup_zone != service.timezone)
        refreshed += 1
    return refreshed


def _take_stale_days(service_id):
    table = connection.ops.quote_name(StaleDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE service_id = %s RETURNING day",  # noqa: S608
            [service_id],
        )
        rows = cursor.fetchall()
    convert = StaleDay._meta.get_field("day").to_python  # SQLite returns text
    return {convert(day) for (day,) in rows}


def _recompute(model, moment, service, dates):
    """Replace ``model``'s rows of the service for ``dates`` (runs of wall dates; None: all)."""
    rows = model.objects.filter(service=service)
    tickets = daily(model, moment, service)
    if dates is not None:
        in_dates = Q()
        in_range = Q()
        for first, last in dates:
            start, end = days.utc_bounds(first, last, service.timezone)
            in_dates |= Q(day__range=(first, last))
            in_range |= Q(**{f"{moment}__gte": start, f"{moment}__lt": end})
        rows = rows.filter(in_dates)
        tickets = tickets.filter(in_range).filter(in_dates)
    rows.delete()
    _insert_from(model, service, tickets)


def _insert_from(model, service, queryset):
    """``INSERT INTO model … SELECT`` the aggregate ``queryset`` (its columns named as the
    model's fields), in the database: no row comes to Python."""
    sql, params = queryset.query.sql_with_params()
    quote = connection.ops.quote_name
    names = [name for name in queryset.query.values_select] + list(queryset.query.annotation_select)
    columns = [model._meta.get_field(name).column for name in names]
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(c) for c in ["service_id", *columns])
    select_list = ", ".join("sub." + quote(name) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({column_list}) "  # noqa: S608
            f"SELECT %s, {select_list} FROM ({sql}) sub",
            [service.pk, *params],
        )
