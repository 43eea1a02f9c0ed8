"""Fixtures for maintenance windows, policies and subscribers."""

from datetime import UTC, datetime, time

import pytest
import time_machine
from django.core.cache import cache

from maintenance.models import MaintenancePolicy, MaintenanceWindow, Subscription
from tests import factories

# A Wednesday. The next Sunday 02:00 UTC is 2027-01-10 02:00, 4 days and 2 hours later.
NOW = datetime(2027, 1, 6, 0, 0, tzinfo=UTC)
SUNDAY = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The banner caches occurrences per service; every test starts without."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock():
    """The wall clock, pinned at NOW; ``clock.move_to(...)`` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def make_policy(service, *, notices=("48h",), channels=("email", "banner"), **fields):
    return MaintenancePolicy.objects.create(
        service=service, notices=list(notices), channels=list(channels), **fields
    )


def make_window(service, **fields):
    defaults = {
        "name": "Scheduled downtime",
        "rrule": "FREQ=WEEKLY;BYDAY=SU",
        "start": time(2, 0),
        "duration": "2h",
        "timezone": "UTC",
        "impact": "Full downtime",
    }
    defaults.update(fields)
    if defaults.get("date"):
        defaults["rrule"] = ""
    return MaintenanceWindow.objects.create(service=service, **defaults)


def subscribe_customers(service, count, *, prefix="sub"):
    """``count`` email subscribers (confirmed), created in bulk."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return Subscription.objects.bulk_create(
        Subscription(
            service=service,
            email=f"{prefix}{i}@example.com",
            confirmed_at=now,
            token=f"{prefix}-{service.pk}-{i}",
        )
        for i in range(count)
    )


@pytest.fixture
def weekly(clock, service):
    """XSafe-like: Sunday 02:00–04:00 UTC, 48 h notice, email and banner."""
    make_policy(service)
    return make_window(service)


@pytest.fixture
def customer_of(db):
    """A customer linked to the service through the contract's ``customer_add_service``."""
    from tickets.services import customer_add_service

    def make(service, **fields):
        user = factories.CustomerFactory(**fields)
        customer_add_service(customer=user, service=service)
        return user

    return make


@pytest.fixture
def recording_backend(settings):
    """The outbox tests' mail server that counts each accepted message by subject."""
    from tests.notifications.backends import RecordingBackend

    RecordingBackend.reset()
    settings.EMAIL_BACKEND = "tests.notifications.backends.RecordingBackend"
    yield RecordingBackend
    RecordingBackend.reset()
