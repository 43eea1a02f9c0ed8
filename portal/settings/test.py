"""Test settings: the base settings with fast hashing and no TLS redirect for the test client.

``DATABASE_URL`` and ``CELERY_BROKER_URL`` still come from the environment, so CI runs the
suite against PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789-abcdefghijkl")

from .base import *  # noqa: E402,F403
from .base import STORAGES, VAR_DIR, env  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["*"]
STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "test-media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Throttling is switched on by the tests that pin it; elsewhere client.login() needs no request.
AXES_ENABLED = False
# Idle expiry of staff sessions likewise: tests that move the clock keep their sign-in.
STAFF_SESSION_IDLE_MINUTES = 0
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
if CELERY_BROKER_URL.startswith("memory://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {}  # the base's filesystem folders; Redis keeps its timeouts
TICKET_SUBMIT_LIMIT_PER_HOUR = 1000
TICKET_REPLY_LIMIT_PER_HOUR = 1000
LOGGING = {"version": 1, "disable_existing_loggers": False}
