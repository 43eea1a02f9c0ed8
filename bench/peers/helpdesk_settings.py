"""Django settings for django-helpdesk as bench/peers/django_helpdesk.py runs it:
its own PostgreSQL database, emails kept in memory (locmem: built and "sent", nothing leaves
the machine), production-like otherwise (DEBUG off). Only the peer's virtualenv imports this."""

import os

SECRET_KEY = "bench-peers-helpdesk-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "helpdesk_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
_url = os.environ["PEER_DATABASE_URL"].split("://", 1)[1]
_user, _rest = _url.split("@", 1)
_host, _name = _rest.split("/", 1)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _name,
        "USER": _user,
        "HOST": _host.split(":")[0],
        "PORT": _host.split(":")[1] if ":" in _host else "5432",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
STATIC_URL = "/static/"
LOGIN_URL = "/login/"
# Teams need pinax-teams, an optional extra; the escalation does not use them.
HELPDESK_TEAMS_MODE_ENABLED = False
