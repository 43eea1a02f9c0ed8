"""An organisation of the Legacy plan (New York time) on its 20-hour Basic contract."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests import factories
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
    SupportContractFactory,
)

# Tuesday 20 January 2026, 10:00 in New York.
NOW = datetime(2026, 1, 20, 15, 0, tzinfo=UTC)
JANUARY = date(2026, 1, 1)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def service(db):
    return factories.ServiceFactory(slug="legacy", name="Legacy", timezone="America/New_York")


@pytest.fixture
def basic(service):
    return SupportContractFactory(service=service, name="Basic", hours_per_month=20)


@pytest.fixture
def premium(service):
    return SupportContractFactory(
        service=service, name="Premium", hours_per_month=80, monthly_cost=18000
    )


@pytest.fixture
def org(service, basic):
    organization = OrganizationFactory(name="Acme Estates", service=service)
    ContractPeriodFactory(organization=organization, starts_on=date(2025, 6, 1), contract=basic)
    return organization


@pytest.fixture
def member(org):
    return OrganizationMemberFactory(
        organization=org,
        user=factories.CustomerFactory(email="ann@acme.example", services=[org.service]),
    ).user


@pytest.fixture
def manager(service):
    factories.EscalationPolicyFactory(service=service, management_chain=["Project Manager"])
    return factories.ManagementContactFactory(
        service=service, role="Project Manager", email="pm@provider.example"
    )


@pytest.fixture
def org_ticket(member, service, priority):
    return factories.TicketFactory(customer=member, service=service, priority=priority)


@pytest.fixture
def staff(db):
    return factories.StaffFactory(tier=1, email="sam@provider.example")


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
