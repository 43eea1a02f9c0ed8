"""The month's use of an organisation: which entries count, against which contract."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.selectors import (
    contract_in_force,
    format_hours,
    organization_month_usage,
    organizations_month_usage,
)
from tests import factories
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    SupportContractFactory,
    TimeEntryFactory,
)

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def entry(org, ticket, worked_at, minutes, **kwargs):
    return TimeEntryFactory(
        organization=org, ticket=ticket, worked_at=worked_at, minutes=minutes, **kwargs
    )


def test_entries_count_in_the_month_of_the_services_clock(org, org_ticket):
    """New York: 31 January 23:30 local (04:30 UTC on 1 February) is January's; 1 February
    00:10 local (05:10 UTC) is February's. January: 600 + 150 = 750 min = 12.5 of 20 h, 62 %."""
    entry(org, org_ticket, utc(2026, 1, 1, 5, 0), 600)  # the first instant of January in NY
    entry(org, org_ticket, utc(2026, 2, 1, 4, 30), 150)  # the last evening of January in NY
    entry(org, org_ticket, utc(2026, 2, 1, 5, 10), 45)
    entry(org, org_ticket, utc(2026, 1, 1, 4, 59), 999)  # still 31 December in NY

    january = organization_month_usage(organization=org, month=JAN)
    assert january.used_minutes == 750
    assert (january.used_hours, january.included_hours, january.percent) == ("12.5", "20", 62)
    assert january.remaining_hours == "7.5"
    assert january.level == "ok"
    february = organization_month_usage(organization=org, month=FEB)
    assert february.used_minutes == 45


def test_a_utc_service_cuts_the_month_at_midnight_utc(db):
    service = factories.ServiceFactory(timezone="UTC")
    org = OrganizationFactory(service=service)
    ContractPeriodFactory(organization=org, starts_on=JAN)
    ticket = factories.TicketFactory(service=service)
    entry(org, ticket, utc(2026, 1, 31, 23, 59), 30)
    entry(org, ticket, utc(2026, 2, 1, 0, 0), 60)
    assert organization_month_usage(organization=org, month=JAN).used_minutes == 30
    assert organization_month_usage(organization=org, month=FEB).used_minutes == 60


def test_voided_entries_and_other_organisations_time_do_not_count(org, org_ticket, staff):
    entry(org, org_ticket, utc(2026, 1, 10), 60)
    entry(org, org_ticket, utc(2026, 1, 11), 500, voided_at=utc(2026, 1, 12), voided_by=staff)
    other = OrganizationFactory(service=org.service)
    entry(other, org_ticket, utc(2026, 1, 12), 700)
    entry(None, org_ticket, utc(2026, 1, 13), 800)  # logged before the customer joined
    assert organization_month_usage(organization=org, month=JAN).used_minutes == 60


def test_the_contract_of_a_month_is_the_latest_period_starting_by_then(org, basic, premium):
    """Basic since June 2025; Premium from March; no contract from May."""
    ContractPeriodFactory(organization=org, starts_on=MAR, contract=premium)
    ContractPeriodFactory(organization=org, starts_on=date(2026, 5, 1), contract=None)
    assert contract_in_force(organization=org, month=date(2025, 5, 1)) is None
    assert contract_in_force(organization=org, month=FEB) == basic
    assert contract_in_force(organization=org, month=MAR) == premium
    assert contract_in_force(organization=org, month=date(2026, 4, 1)) == premium
    assert contract_in_force(organization=org, month=date(2026, 5, 1)) is None
    usage = organization_month_usage(organization=org, month=date(2026, 5, 1))
    assert (usage.contract, usage.percent, usage.included_minutes) == (None, None, 0)


def test_over_the_hours_the_bar_is_full_and_the_percent_is_not_capped(org, org_ticket):
    entry(org, org_ticket, utc(2026, 1, 10), 22 * 60)
    usage = organization_month_usage(organization=org, month=JAN)
    assert (usage.percent, usage.bar_percent, usage.level) == (110, 100, "exhausted")
    assert usage.remaining_hours == "0"


def test_a_contract_of_zero_hours_has_no_percentage(org, org_ticket, service):
    ContractPeriodFactory(
        organization=org,
        starts_on=JAN,
        contract=SupportContractFactory(service=service, name="On demand", hours_per_month=0),
    )
    entry(org, org_ticket, utc(2026, 1, 10), 60)
    usage = organization_month_usage(organization=org, month=JAN)
    assert (usage.percent, usage.bar_percent, usage.level) == (None, 0, "ok")


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0, "0"), (20, "0.3"), (15, "0.3"), (750, "12.5"), (1200, "20"), (61, "1")],
)
def test_hours_are_shown_with_at_most_one_decimal(minutes, text):
    assert format_hours(minutes) == text


def test_many_organisations_in_a_constant_number_of_queries(service, basic):
    """Each organisation's contract and minutes, with the same query count for 2 organisations
    as for 12, across two time zones."""
    utc_service = factories.ServiceFactory(timezone="UTC")
    utc_contract = SupportContractFactory(service=utc_service, hours_per_month=10)

    expected = {}  # organisation id: (contract, January's minutes)

    def make(count):
        for n in range(count):
            svc, contract = (service, basic) if n % 2 else (utc_service, utc_contract)
            org = OrganizationFactory(service=svc)
            ContractPeriodFactory(organization=org, starts_on=JAN, contract=contract)
            ticket = factories.TicketFactory(service=svc)
            entry(org, ticket, utc(2026, 1, 31, 23, 0), 60 * (n + 1))  # Jan in both zones
            entry(org, ticket, utc(2026, 2, 1, 3, 0), 30)  # January in NY, February in UTC
            expected[org.pk] = (contract, 60 * (n + 1) + (30 if svc == service else 0))

    def measure():
        orgs = list(
            OrganizationFactory._meta.model.objects.select_related("service").order_by("pk")
        )
        with CaptureQueriesContext(connection) as queries:
            usage = organizations_month_usage(organizations=orgs, month=JAN)
        assert {pk: (u.contract, u.used_minutes) for pk, u in usage.items()} == expected
        return len(queries), usage

    make(2)
    few, usage = measure()
    assert sorted(u.used_minutes for u in usage.values()) == [60, 150]
    make(10)
    many, _ = measure()
    assert few == many <= 3
