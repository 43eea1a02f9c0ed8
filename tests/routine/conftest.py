"""Fixtures for routine tasks: a service in Berlin, its tasks, staff of each tier."""

from datetime import UTC, datetime

import pytest
import time_machine

from tests import factories
from tests.routine.factories import RoutineTaskFactory, routine_staff

# Tuesday 24 November 2026, 10:00 UTC (11:00 in Berlin): ISO week 48 of 2026, Q4.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """The wall clock, pinned at NOW; ``clock.move_to(...)`` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def berlin(db):
    return factories.ServiceFactory(slug="erp", name="ERP", timezone="Europe/Berlin")


@pytest.fixture
def make_task(berlin):
    def make(**fields):
        fields.setdefault("service", berlin)
        return RoutineTaskFactory(**fields)

    return make


@pytest.fixture
def staff(db):
    """One member of each tier, with an address (who the reminders go to)."""
    return {level: routine_staff(level, email=f"tier{level}@example.com") for level in (1, 2, 3)}
