"""factory_boy factories for organisations, contracts and time."""

from datetime import date

import factory
from django.utils import timezone

from contracts.models import ContractPeriod, Organization, OrganizationMember, TimeEntry
from sla.models import SupportContract
from tests import factories


class SupportContractFactory(factory.django.DjangoModelFactory):
    """The Legacy plan's Basic contract unless told otherwise: 20 h a month."""

    class Meta:
        model = SupportContract
        django_get_or_create = ("service", "name")

    service = factory.SubFactory(factories.ServiceFactory)
    name = "Basic"
    hours_per_month = 20
    monthly_cost = 5000
    currency = "USD"
    includes = "Bug fixes, monitoring"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    service = factory.SubFactory(factories.ServiceFactory)


class OrganizationMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationMember

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.LazyAttribute(
        lambda o: factories.CustomerFactory(services=[o.organization.service])
    )


class ContractPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractPeriod

    organization = factory.SubFactory(OrganizationFactory)
    starts_on = date(2025, 1, 1)
    contract = factory.LazyAttribute(
        lambda o: SupportContractFactory(service=o.organization.service)
    )


class TimeEntryFactory(factory.django.DjangoModelFactory):
    """A row written directly, for reads: writes under test go through ``time_entry_log``."""

    class Meta:
        model = TimeEntry

    ticket = factory.SubFactory(factories.TicketFactory)
    staff = factory.SubFactory(factories.StaffFactory, tier=1)
    organization = None
    minutes = 60
    worked_at = factory.LazyFunction(timezone.now)
