"""PostgreSQL statements with their values bound server-side, for the sweeps' bulk writes."""

from django.db import connection as default_connection


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
