"""What beat sweeps share: the loop over rows whose next deadline is an indexed column, and
bulk statements with their values bound server-side.

The ticket escalation sweep and the post-mortem reminder sweep both read their due rows this
way (STYLE.md rules 4 and 5); the locking and the stop conditions live here once.
"""

from collections import Counter

from django.db import connection as default_connection
from django.db import transaction


def sweep_due_rows(queryset, *, due_field, now, batch_size, handle):
    """Call ``handle(rows)`` on the rows of ``queryset`` with ``due_field <= now``, a batch at a
    time, each batch locked and handled in its own transaction; returns the summed counts that
    ``handle`` returns.

    - ``FOR UPDATE SKIP LOCKED`` (of the rows' own table only): two workers never hold the same
      row, and neither waits for the other; a batch that fails rolls back whole, for the next run.
    - ``handle`` must move ``due_field`` on (or clear it); a row it leaves due would be read
      again, so a batch of only rows already handled in this run ends the sweep rather than
      looping on them.
    - A short batch is the last: what falls due while the sweep runs is the next run's.
    """
    totals = Counter()
    seen = set()
    while True:
        with transaction.atomic():
            rows = list(
                queryset.select_for_update(skip_locked=True, of=("self",))
                .filter(**{f"{due_field}__lte": now})
                .order_by(due_field, "id")[:batch_size]
            )
            if not rows or all(row.pk in seen for row in rows):
                break
            seen.update(row.pk for row in rows)
            totals.update(handle(rows))
        if len(rows) < batch_size:
            break
    return totals


def execute_bound(sql, params, *, fetch=False, db=None):
    """Run ``sql`` on PostgreSQL with its parameters bound server-side (``%b``: binary).

    Django's psycopg cursor binds client-side: it quotes every value into the SQL text, which
    for a sweep's arrays of a few thousand values costs more Python time than the statement
    takes to run. A plain psycopg cursor on the same connection (same transaction) sends them
    as binary parameters instead; the statement is still logged where Django logs queries
    (DEBUG, tests capturing queries).
    """
    import psycopg  # the PostgreSQL backend's driver

    db = db or default_connection
    with db.cursor() as wrapper, db.wrap_database_errors:
        cursor = psycopg.Cursor(db.connection)
        if hasattr(wrapper, "debug_sql"):
            with wrapper.debug_sql(sql):
                cursor.execute(sql, params)
        else:
            cursor.execute(sql, params)
        return cursor.fetchall() if fetch else None
