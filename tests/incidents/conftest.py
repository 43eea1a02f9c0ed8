"""Fixtures for incidents: a service with the default process, 48 h post-mortems, staff."""

from datetime import UTC, datetime

import pytest
import time_machine

from tests import factories
from tests.incidents.factories import IncidentPolicyFactory

# A Wednesday in winter (no DST change near it).
NOW = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """The wall clock, pinned at NOW; ``clock.move_to(...)`` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def severity(service):
    return factories.PriorityFactory(service=service, code="P0", name="Critical", position=0)


@pytest.fixture
def policy(service):
    return IncidentPolicyFactory(service=service)


@pytest.fixture
def staff(db):
    return factories.StaffFactory(tier=1, first_name="Olive", last_name="Owner")


@pytest.fixture
def other_staff(db):
    return factories.StaffFactory(tier=2)


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def publisher(db):
    """A Tier 2 member: Tier 2 and 3 may publish incidents (``incidents.publish_incident``)."""
    return factories.StaffFactory(tier=2, email="publisher@example.com")


@pytest.fixture
def open_incident(service, severity, policy, staff, publisher):
    """Open an incident through the service, as staff do, and publish it (``publish=False``
    leaves it a draft): the tests written before drafts pin what a public incident does."""
    from incidents import services

    def make(*, publish=True, **kwargs):
        kwargs.setdefault("service", service)
        kwargs.setdefault("severity", severity)
        kwargs.setdefault("title", "Database unreachable")
        kwargs.setdefault("by", staff)
        incident = services.incident_open(**kwargs)
        if publish:
            incident = services.incident_publish(incident=incident, by=publisher)
        return incident

    return make
