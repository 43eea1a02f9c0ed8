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
    "DJANGO_SETTINGS_MODULE": "portal.settings.base",
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
