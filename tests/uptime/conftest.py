"""Fixtures for the uptime tests: a UTC service like XSafe ERP with its Sunday window."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from sla.models import ServiceTargets
from tests import factories
from tests.maintenance.conftest import make_window

# A Wednesday in December 2026: November is over, December under way.
NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def sunday_window(service, **fields):
    """Sunday 02:00–04:00 UTC, as XSafe ERP's plan has it (the maintenance tests' window)."""
    return make_window(service, **fields)


def priorities(service, targets=("99.99", "99.9", "99.5", None)):
    """P0–P3 most urgent first, with XSafe ERP's uptime targets."""
    names = ["Critical", "High", "Medium", "Low"]
    return [
        factories.PriorityFactory(
            service=service,
            code=f"P{n}",
            name=names[n],
            position=n,
            uptime=Decimal(target) if target else None,
        )
        for n, target in enumerate(targets)
    ]


@pytest.fixture
def erp(db):
    """A UTC service with a 99.9 % overall target and the Sunday 02:00–04:00 window.

    Sundays of November 2026: 1, 8, 15, 22, 29 → 5 × 120 = 600 planned minutes, so November
    has 43,200 − 600 = 42,600 eligible minutes and a 99.9 % budget of 42.6 minutes.
    """
    service = factories.ServiceFactory(slug="erp", name="ERP", timezone="UTC")
    ServiceTargets.objects.create(service=service, uptime=Decimal("99.9"))
    sunday_window(service)
    return service
