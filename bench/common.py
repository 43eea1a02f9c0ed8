"""Shared set-up for the benchmarks: a PostgreSQL database of their own, Django configured."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench"
)
BENCH_PASSWORD = "bench-password-2026"

# Production settings, minus TLS (the benchmark talks plain HTTP on loopback).
BENCH_ENV = {
    # portal.settings.base plus the minimal view of the baselines (bench/settings.py).
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": BENCH_DATABASE_URL,
    "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    "CELERY_BROKER_URL": "memory://",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "600",
    # As deployed: sessions and the banner in a cache shared by the web workers.
    "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14"),
}


def setup_django():
    os.environ.update(BENCH_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def ensure_database(fresh=False):
    """Create the benchmark database (dropping it first when ``fresh``)."""
    import psycopg

    name = BENCH_DATABASE_URL.rsplit("/", 1)[1]
    base = BENCH_DATABASE_URL.rsplit("/", 1)[0].replace("postgres://", "postgresql://")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare_database(fresh=False):
    """The benchmark database created (dropped first when ``fresh``), migrated, and Django set
    up on it: how every benchmark starts."""
    import subprocess

    ensure_database(fresh=fresh)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **BENCH_ENV},
        check=True,
    )
    setup_django()


# ruff: noqa: S608 -- the SQL below names tables and columns read from PostgreSQL's catalog.

# --- Same-run baselines ---------------------------------------------------------------------
# The machines are shared and their speed varies 2-3x from day to day, so a figure alone says
# little. Every benchmark measures, in the same run, what the machine does for the least work
# of the same kind, and reports its own figures as ratios to those (docs/performance.md,
# "Baselines"): the database's time for the bare SQL of the same writes (the floor), a minimal
# signed-in Django view served the same way, and a fixed unit of pure Python work.

MINIMAL_VIEW_PATH = "/bench/minimal/"


def python_unit_ms(rounds=5):
    """Median milliseconds of a fixed unit of pure Python (dicts, strings, a sort: the kind
    of work views and sweeps do between queries). It does not change, so its time is the
    machine's speed for interpreted code right now."""
    import statistics
    import time

    def unit():
        rows = [{"id": i, "subject": f"Ticket {i}", "tier": i % 3} for i in range(20_000)]
        rows.sort(key=lambda row: (row["tier"], -row["id"]))
        return sum(len(row["subject"]) for row in rows)

    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        unit()
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def ratio(value, baseline):
    return round(value / baseline, 2) if baseline else None


def print_report(title, figures, baselines, ratios):
    """One block per benchmark: its figures, the same-run baselines, and the ratios to them."""
    print(f"== {title}")
    for heading, values in (("figures", figures), ("baselines", baselines), ("ratios", ratios)):
        print(f"  {heading}:")
        for name, value in values.items():
            print(f"    {name:<44} {value}")


def _column_types(cursor, table):
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [table],
    )
    return cursor.fetchall()


def _id_tables(cursor):
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'id' "
        "WHERE c.relkind = 'r' AND n.nspname = 'public'"
    )
    return [row[0] for row in cursor.fetchall()]


class WriteFloor:
    """The database's own time for exactly the rows a piece of code wrote, as bare SQL.

    ``before()`` notes each table's highest id and the rows of ``table`` about to change;
    the code runs; ``after()`` reads what it inserted and updated; ``measure()`` puts the
    database back as it was and times one committed transaction doing one ``UPDATE … FROM``
    of the changed rows to their new values and one ``INSERT … SELECT`` per table of the
    inserted rows (same columns, same values). That is the physical limit of the same writes:
    no Python, no ORM, one statement per table, one commit."""

    def __init__(self, table, where, params=()):
        self.table, self.where, self.params = table, where, list(params)

    def before(self):
        from django.db import connection

        with connection.cursor() as cursor:
            self.tables = _id_tables(cursor)
            self.max_ids = {}
            for table in self.tables:
                cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
                self.max_ids[table] = cursor.fetchone()[0]
            self.columns = _column_types(cursor, self.table)
            self.old = self._rows(cursor)

    def _rows(self, cursor):
        names = ", ".join(f'"{name}"::text' for name, _ in self.columns)
        cursor.execute(
            f'SELECT {names} FROM "{self.table}" WHERE {self.where} ORDER BY id', self.params
        )
        return cursor.fetchall()

    def after(self):
        """Read what the code wrote (call right after it ran)."""
        from django.db import connection

        with connection.cursor() as cursor:
            new = {row[0]: row for row in self._rows_by_ids(cursor, [r[0] for r in self.old])}
            self.changed_columns = [
                index
                for index, (name, _) in enumerate(self.columns)
                if name != "id" and any(new[row[0]][index] != row[index] for row in self.old)
            ]
            self.updated = [(row, new[row[0]]) for row in self.old if new[row[0]] != row]
            self.inserted = {}
            for table in self.tables:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE id > %s', [self.max_ids[table]]
                )
                if cursor.fetchone()[0]:
                    columns = [c for c in _column_types(cursor, table) if c[0] != "id"]
                    names = ", ".join(f'"{name}"::text' for name, _ in columns)
                    cursor.execute(
                        f'SELECT id, {names} FROM "{table}" WHERE id > %s ORDER BY id',
                        [self.max_ids[table]],
                    )
                    self.inserted[table] = (columns, cursor.fetchall())

    def _rows_by_ids(self, cursor, ids):
        names = ", ".join(f'"{name}"::text' for name, _ in self.columns)
        cursor.execute(
            f'SELECT {names} FROM "{self.table}" WHERE id = ANY(%s::bigint[])',
            [[int(i) for i in ids]],
        )
        return cursor.fetchall()

    def summary(self):
        rows = {table: len(rows) for table, (_, rows) in self.inserted.items()}
        return {"updated": {self.table: len(self.updated)}, "inserted": rows}

    def _update_sql(self, rows, source=None):
        """``UPDATE`` of the changed columns to the values in ``rows``: from ``unnest`` of
        bound arrays, or from the staged table ``source``."""
        columns = [self.columns[i] for i in self.changed_columns]
        sets = ", ".join(f'"{name}" = u."{name}"' for name, _ in columns)
        if source:
            return f'UPDATE "{self.table}" AS t SET {sets} FROM {source} AS u WHERE t.id = u.id', []
        arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
        aliases = ", ".join(f'"{name}"' for name, _ in columns)
        sql = (
            f'UPDATE "{self.table}" AS t SET {sets} FROM unnest(%s::bigint[], {arrays}) '
            f"AS u(id, {aliases}) WHERE t.id = u.id"
        )
        params = [[int(row[0]) for row in rows]]
        params += [[row[i] for row in rows] for i in self.changed_columns]
        return sql, params

    def measure(self):
        """Seconds of the bare writes, committed: the code's writes are undone (``undo``),
        their rows staged in temporary tables (untimed: getting values from Python into the
        server is not the database's work), then one transaction does one ``UPDATE … FROM``
        and one ``INSERT … SELECT`` per table and commits. Afterwards the database holds the
        same rows as after the code (new ids for the inserted ones)."""
        import time

        from django.db import connection, transaction

        self.undo()
        stages = []
        with connection.cursor() as cursor:
            if self.updated:
                columns = [self.columns[0], *(self.columns[i] for i in self.changed_columns)]
                sql, params = self._update_sql([new for _, new in self.updated])
                cursor.execute("DROP TABLE IF EXISTS bench_stage_update")
                cursor.execute(
                    "CREATE TEMP TABLE bench_stage_update AS SELECT * FROM unnest("
                    + ", ".join(f"%s::{kind}[]" for _, kind in columns)
                    + ") AS u("
                    + ", ".join(f'"{name}"' for name, _ in columns)
                    + ")",
                    params,
                )
                cursor.execute("ANALYZE bench_stage_update")
            for index, (table, (columns, rows)) in enumerate(self.inserted.items()):
                names = ", ".join(f'"{name}"' for name, _ in columns)
                arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
                stage = f"bench_stage_{index}"
                cursor.execute(f"DROP TABLE IF EXISTS {stage}")
                cursor.execute(
                    f"CREATE TEMP TABLE {stage} AS SELECT * FROM unnest({arrays}) AS u({names})",
                    [[row[i + 1] for row in rows] for i in range(len(columns))],
                )
                stages.append(
                    (table, f'INSERT INTO "{table}" ({names}) SELECT {names} FROM {stage}')
                )
        self.statements = {}
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if self.updated:
                cursor.execute(self._update_sql(None, source="bench_stage_update")[0])
                self.statements[f"UPDATE {self.table}"] = time.perf_counter() - started
            for table, sql in stages:
                began = time.perf_counter()
                cursor.execute(sql)
                self.statements[f"INSERT {table}"] = time.perf_counter() - began
        elapsed = time.perf_counter() - started
        self.statements["COMMIT"] = elapsed - sum(self.statements.values())
        return elapsed

    def _undo(self, cursor, restore):
        for table in self.inserted:
            cursor.execute(f'DELETE FROM "{table}" WHERE id > %s', [self.max_ids[table]])
        if self.updated:
            cursor.execute(*restore)

    def undo(self):
        """Put the database back as it was before the code ran (committed, then VACUUM
        ANALYZE of the tables touched), so the code can be measured again on the same rows."""
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            self._undo(cursor, self._update_sql([old for old, _ in self.updated]))
        with connection.cursor() as cursor:
            for table in {self.table, *self.inserted}:
                cursor.execute(f'VACUUM ANALYZE "{table}"')
