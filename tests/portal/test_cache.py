"""The shared cache (Redis in production) speeds pages up; Redis being down costs no page."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

UNREACHABLE = {
    "default": {
        "BACKEND": "portal.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    }
}


def test_pages_work_while_redis_is_unreachable(settings, client, customer, service):
    """Sessions fall back to their table and the banner to PostgreSQL: the customer signs in
    and reads their pages as usual."""
    settings.CACHES = UNREACHABLE
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    assert cache.get("anything", "miss") == "miss"
    client.force_login(customer)
    for name in ("home", "tickets:list", "tickets:new", "status"):
        assert client.get(reverse(name)).status_code == 200, name


def test_a_skipped_delete_heals_within_max_timeout(settings):
    """A delete that cannot reach Redis is logged, and no entry outlives MAX_TIMEOUT: a session
    signed out during an outage is not served from the cache for longer than that."""
    settings.CACHES = {"default": {**UNREACHABLE["default"], "MAX_TIMEOUT": 120}}
    assert cache.delete("a-session") is False
    assert cache.get_backend_timeout(14 * 24 * 3600) == 120
    assert cache.get_backend_timeout(None) == 120
    assert cache.get_backend_timeout(60) == 60


@pytest.mark.redis
def test_sessions_are_read_from_redis_not_the_table(settings, client, customer):
    """With a shared Redis cache a signed-in page does not query the session table."""
    import os

    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.ResilientRedisCache",
            "LOCATION": os.environ["CELERY_BROKER_URL"],
            "KEY_PREFIX": "test-sessions",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client.force_login(customer)
    client.get(reverse("tickets:list"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("tickets:list")).status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
    # Logging out removes it from Redis too: the old cookie is signed out everywhere.
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("logout"))
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert client.get(reverse("tickets:list")).status_code == 302
