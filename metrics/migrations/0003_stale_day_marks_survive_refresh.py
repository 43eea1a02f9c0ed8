# The triggers' functions (PostgreSQL) list a ticket's days even when a row for that (service,
# day) is already there, unless this transaction wrote it.
#
# 0002 skipped a day already listed by anyone. Under READ COMMITTED that row may belong to a
# refresh's take: a ticket write skipped it, a refresh deleted the row and recomputed the day
# before the write committed, and then nothing was left to say the day was stale: the rollup
# kept the old figure for good. A row this transaction inserted is invisible to every refresh
# until it commits, so it cannot be taken early; any other row may be. (SQLite has one writer
# at a time: the refresh cannot run between a write and its commit, so its triggers stay.)

from django.db import migrations

_MARK = """
    INSERT INTO metrics_staleday (service_id, day)
    SELECT DISTINCT v.service_id, v.day FROM ({rows}) AS v (service_id, day)
    WHERE v.day IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM metrics_staleday s
        WHERE s.service_id = v.service_id AND s.day = v.day
        AND s.xmin = pg_current_xact_id()::xid
    );
"""

_STATEMENT_ROWS = (
    "SELECT service_id, (created_at AT TIME ZONE 'UTC')::date FROM changed "
    "UNION ALL SELECT service_id, (resolved_at AT TIME ZONE 'UTC')::date FROM changed"
)
_ROW_ROWS = (
    "VALUES (OLD.service_id, (OLD.created_at AT TIME ZONE 'UTC')::date), "
    "(OLD.service_id, (OLD.resolved_at AT TIME ZONE 'UTC')::date), "
    "(NEW.service_id, (NEW.created_at AT TIME ZONE 'UTC')::date), "
    "(NEW.service_id, (NEW.resolved_at AT TIME ZONE 'UTC')::date)"
)


def _function(name, rows, mark):
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + mark.format(rows=rows)
        + " RETURN NULL; END $$;"
    )


_OLD_MARK = """
    INSERT INTO metrics_staleday (service_id, day)
    SELECT DISTINCT v.service_id, v.day FROM ({rows}) AS v (service_id, day)
    WHERE v.day IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM metrics_staleday s WHERE s.service_id = v.service_id AND s.day = v.day
    );
"""


def _replace(mark):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_function("metrics_mark_stale_rows", _STATEMENT_ROWS, mark))
        schema_editor.execute(_function("metrics_mark_stale_row", _ROW_ROWS, mark))

    return run


class Migration(migrations.Migration):
    dependencies = [("metrics", "0002_rollup")]

    operations = [migrations.RunPython(_replace(_MARK), _replace(_OLD_MARK))]
