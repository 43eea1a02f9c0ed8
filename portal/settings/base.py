"""Settings for every environment, read from the environment through one ``environ.Env``.

Defaults are safe for a developer's laptop (SQLite, a broker that needs no server, console
email); production must set ``SECRET_KEY`` and keep ``DEBUG`` off.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
else:
    # No default: a production process must never run with a key that is in the repository.
    SECRET_KEY = env("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "testserver"}
if DEBUG and not set(ALLOWED_HOSTS) <= _LOCAL_HOSTS:
    raise ImproperlyConfigured("DEBUG must be off when ALLOWED_HOSTS names a public host.")

SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    # Two-factor sign-in for staff (TOTP, and single-use recovery codes): accounts.otp.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "notifications",
    "sla",
    "paging",
    "maintenance",
    "tickets",
    "inbound",
    "incidents",
    "alerts",
    "routine",
    "uptime",
    "status",
    "contracts",
    "metrics",
    "rest_framework",
    "drf_spectacular",
    "api",
    "knowledge",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and views: a NUL byte PostgreSQL cannot store is a 400, not a 500.
    "portal.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Ends sessions signed out everywhere, idle staff sessions, single sign-on sessions the
    # identity provider no longer vouches for; the admin asks staff for their second factor.
    "accounts.sessions.SessionPolicyMiddleware",
    # Last, so it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and images from
# this site only, no inline script, style or event handler (the pages have none: behaviour is in
# static/js, styles in static/css), no plugins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

# Widgets are drawn from the same template directories as pages, so templates/admin/widgets/
# can give Django's admin widgets real labels (accessibility; tests/browser/test_accessibility.py).
# "django.forms" (INSTALLED_APPS) provides the built-in widget templates to that engine.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "maintenance.context_processors.maintenance_banner",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default is shared by web, worker and beat processes: wait for the write lock
    # instead of failing with "database is locked", and let readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# A cache shared by every web process (Redis in production, CACHE_URL=redis://…) holds sessions
# in front of their table and the maintenance banner's windows. Without one, each process keeps
# its own in memory and sessions stay in the database alone: a per-process copy of a session
# would outlive a logout handled by another process.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "portal.cache.ResilientRedisCache"
    # A Redis that hangs must not hold a page: give up fast and read PostgreSQL instead.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
    )
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Throttles login attempts; must come first so a locked-out user is refused before any check.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
]
# Read with the signed-in user's row, in the same query (accounts.backends.EmailBackend.get_user):
# what every customer page asks about them (their services, their organisation), instead of
# two more queries a page. Nothing is kept between requests.
ACCOUNTS_USER_PRELOADS = ["support.preloads.CustomerContext"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"  # one count per account, any case
# Axes keeps the form of each failure: mask the second-factor code (a near-miss recovery code)
# as it masks the password.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

# Single sign-on with OpenID Connect (docs/security.md, accounts.oidc). Off while OIDC_ISSUER is
# unset. The issuer's /.well-known/openid-configuration gives every endpoint and its keys.
OIDC_ISSUER = env("OIDC_ISSUER", default="").rstrip("/")
OIDC_CLIENT_ID = env("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env("OIDC_CLIENT_SECRET", default="")
OIDC_SCOPES = env("OIDC_SCOPES", default="openid email profile")
# Shown on the sign-in button: "Sign in with …".
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="single sign-on")
# The ID-token (or userinfo) claim listing the person's groups at the provider, and what each
# group grants here, as JSON: {"support-l2": {"tier": 2}, "team-acme": {"services": ["acme"]}}.
# Empty: the provider only authenticates, and tiers and services stay as set in the admin.
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
OIDC_GROUP_MAP = env.json("OIDC_GROUP_MAP", default={})
# Customers may sign in (and be given an account) through the provider too.
OIDC_FOR_CUSTOMERS = env.bool("OIDC_FOR_CUSTOMERS", default=False)
# Staff may sign in only through the provider: passwords are refused for them, admin included.
OIDC_REQUIRED_FOR_STAFF = env.bool("OIDC_REQUIRED_FOR_STAFF", default=False)
# How often a single sign-on session asks the provider (refresh token) whether the person may
# still sign in; refused: the session ends at once.
OIDC_RECHECK_MINUTES = env.int("OIDC_RECHECK_MINUTES", default=5)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
# Writes the services a staff member works (IdP groups → sla.StaffService): sla sits above
# accounts, so it is named here rather than imported.
ACCOUNTS_SET_STAFF_SERVICES = "sla.services.staff_services_set"

# Two-factor sign-in: staff must have a second factor (an authenticator app) before the admin
# lets them in. Single sign-on counts as one (the provider decides how people authenticate).
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Support portal")
# A staff session unused for this long ends (0: never; sessions still end after
# SESSION_COOKIE_AGE, two weeks).
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=60)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    # Attachments are private: served only through a view that checks access, never by URL.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))},
    },
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A hung mail server must not hold a worker (and the row lock it has) for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Support Portal <support@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Uploads: what a customer may attach, and how much.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_MAX_FILES = env.int("ATTACHMENT_MAX_FILES", default=5)
ATTACHMENT_ALLOWED_EXTENSIONS = env.list(
    "ATTACHMENT_ALLOWED_EXTENSIONS",
    default=[
        "png",
        "jpg",
        "jpeg",
        "gif",
        "pdf",
        "txt",
        "log",
        "csv",
        "json",
        "zip",
        "docx",
        "xlsx",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# A customer may submit this many tickets, and add this many replies, per rolling hour (staff
# replies are not limited).
TICKET_SUBMIT_LIMIT_PER_HOUR = env.int("TICKET_SUBMIT_LIMIT_PER_HOUR", default=20)
TICKET_REPLY_LIMIT_PER_HOUR = env.int("TICKET_REPLY_LIMIT_PER_HOUR", default=60)
# The largest ticket description or reply, in UTF-8 bytes (it is copied into emails).
TICKET_TEXT_MAX_BYTES = env.int("TICKET_TEXT_MAX_BYTES", default=64 * 1024)
# Days after closing during which the customer may reopen a ticket (then: a follow-up).
TICKET_REOPEN_DAYS = env.int("TICKET_REOPEN_DAYS", default=14)
# What a newly verified account is handed to (accounts calls them; the apps above it decide).
ACCOUNTS_ON_VERIFIED = ["contracts.services.customer_onboard"]

# Inbound email (docs/email.md): the bearer token of POST /inbound/email/ (unset: the endpoint
# answers 404), and the largest message kept whole (a larger one is refused, its headers kept).
INBOUND_EMAIL_TOKEN = env("INBOUND_EMAIL_TOKEN", default="")
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# IMAP polling (inbound.tasks.fetch_mail, every minute): imaps://user:pass@host:993/INBOX,
# imap://… (STARTTLS required) or imap+plain://… (no TLS, loopback hosts only); unset = off.
IMAP_URL = env("IMAP_URL", default="")
# Messages fetched per IMAP round trip, and the most bytes of them held in memory at once.
IMAP_BATCH_SIZE = env.int("IMAP_BATCH_SIZE", default=100)
IMAP_BATCH_MAX_BYTES = env.int("IMAP_BATCH_MAX_BYTES", default=32 * 1024 * 1024)
IMAP_TIMEOUT = env.float("IMAP_TIMEOUT", default=30.0)
# Threads acting on a fetched batch at once (PostgreSQL only; one sender's mail stays in one
# thread, in order). 1: one after another.
INBOUND_ACT_THREADS = env.int("INBOUND_ACT_THREADS", default=4)
# Auto-answers to unknown senders: at most this many per hour from each service (a flood of
# forged senders cannot make us a backscatter source), on top of one per sender per day.
INBOUND_AUTO_ANSWERS_PER_HOUR = env.int("INBOUND_AUTO_ANSWERS_PER_HOUR", default=3)

# Celery. The default broker needs no server: kombu's filesystem transport under var/, shared
# by separate worker and beat processes.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
    # The transport does not create its folders; worker, beat and web all need them.
    for _folder in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # Without these a Redis that is unreachable or hangs (accepts, never answers) holds a
        # request in .delay() for minutes: redis-py has no socket timeouts by default and kombu
        # does not pass broker_connection_timeout to it.
        "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
        "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# A request must not hang on a broker that is down: the outbox sweep delivers what could not be
# enqueued, so publishing gives up fast.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE = {
    "send-pending-notifications": {
        "task": "notifications.tasks.send_pending_notifications",
        "schedule": 60.0,
    },
    "send-maintenance-notices": {
        "task": "maintenance.tasks.send_maintenance_notices",
        "schedule": 60.0,
    },
    "escalate-lapsed-tickets": {
        "task": "sla.tasks.escalate_lapsed_tickets",
        "schedule": 60.0,
    },
    "remind-postmortems": {
        "task": "incidents.tasks.remind_postmortems",
        "schedule": 60.0,
    },
    # Runbook deadlines (a breach's 72-hour notification …): reminders as for post-mortems.
    "remind-incident-deadlines": {
        "task": "incidents.tasks.remind_incident_deadlines",
        "schedule": 60.0,
    },
    # Finishes a public update's emails whose task was lost (broker down) or died half-way.
    "send-incident-updates": {
        "task": "incidents.tasks.send_incident_updates",
        "schedule": 60.0,
    },
    # Items appear within a quarter of an hour of their period's local midnight.
    "create-routine-items": {
        "task": "routine.tasks.create_routine_items",
        "schedule": 900.0,
    },
    "remind-overdue-routine-items": {
        "task": "routine.tasks.remind_overdue_routine_items",
        "schedule": 300.0,
    },
    # Inbound mail stored but not acted on (a crash between the two steps, a failed attempt).
    "process-pending-mail": {
        "task": "inbound.tasks.process_pending_mail",
        "schedule": 60.0,
    },
    # New mail in IMAP_URL's folder (a no-op when it is unset).
    "fetch-mail": {
        "task": "inbound.tasks.fetch_mail",
        "schedule": 60.0,
    },
    # Pages and chat messages whose task was lost, and the retries of failed attempts.
    "send-pending-pages": {
        "task": "paging.tasks.send_pending_pages",
        "schedule": 60.0,
    },
    # The dashboard's per-day rollup refreshed in the background (the dashboard refreshes what
    # is still stale when it reads; this keeps that small after a busy day or a deploy).
    "refresh-metrics-rollups": {
        "task": "metrics.tasks.refresh_metrics_rollups",
        "schedule": 300.0,
    },
    # Monthly and quarterly reports, within a quarter of an hour of their period's end.
    "send-period-reports": {
        "task": "reports.tasks.send_period_reports",
        "schedule": 900.0,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Outbox: how often a failed email is retried before it is marked failed (and shown in admin).
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
# Outbox sweep over SMTP: connections one worker keeps sending at once (a thread each); 1 sends
# in order over one. Mail servers commonly accept dozens of connections per client.
NOTIFICATION_SMTP_CONNECTIONS = env.int("NOTIFICATION_SMTP_CONNECTIONS", default=4)

# Alerts in (docs/alerts.md): the largest payload a hook reads, and how old a generic hook's
# signed timestamp may be (replays of an older signed request are refused).
ALERTS_MAX_BYTES = env.int("ALERTS_MAX_BYTES", default=1024 * 1024)
ALERTS_SIGNATURE_TOLERANCE = env.int("ALERTS_SIGNATURE_TOLERANCE", default=300)
# CloudWatch via SNS: SigningCertURL and SubscribeURL must be https on
# sns.<region>.amazonaws.com. Tests add their loopback host here; deliberately not read from
# the environment, so no deployment can widen it.
ALERTS_SNS_CERT_HOSTS = []
# Pages out (docs/alerts.md): PagerDuty's Events API v2 endpoint; hosts that may be loopback or
# private addresses (an internal relay; tests' local receiver), refused otherwise (SSRF); the
# time a destination has to answer; how long a page is retried before it is marked failed.
PAGING_PAGERDUTY_URL = env(
    "PAGING_PAGERDUTY_URL", default="https://events.pagerduty.com/v2/enqueue"
)
PAGING_ALLOWED_HOSTS = env.list("PAGING_ALLOWED_HOSTS", default=[])
PAGING_TIMEOUT = env.float("PAGING_TIMEOUT", default=5.0)
PAGING_GIVE_UP_AFTER = env.int("PAGING_GIVE_UP_AFTER", default=2 * 3600)

# REST API (docs/api.md): Django REST framework, bearer tokens only (api.models.ApiToken),
# JSON only. No session authentication and no browsable API, in any mode: a second way in
# would be writes attributed to no token and a CSRF surface; the OpenAPI document at
# /api/v1/schema/ is the documentation.
API_TOKEN_RATE = env("API_TOKEN_RATE", default="600/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": API_TOKEN_RATE},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Support portal API",
    "DESCRIPTION": "Tickets, services and their SLAs, as the portal and the admin show them. "
    "Errors are RFC 9457 problem details. See docs/api.md.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Staff see more fields of a ticket than customers: a field is documented, not promised.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "IncidentUpdateStatusEnum": "incidents.models.UpdateStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problem_responses",
    ],
}

# Security. Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
