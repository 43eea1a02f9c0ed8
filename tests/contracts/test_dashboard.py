"""The customer's dashboard shows their own organisation's hours this month, and nothing of
anyone else's."""

from datetime import UTC, datetime

import pytest

from contracts import services
from tests import factories
from tests.contracts.conftest import JANUARY
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
    SupportContractFactory,
    TimeEntryFactory,
)

pytestmark = pytest.mark.django_db


def usage_card(response):
    html = response.content.decode()
    start = html.find('data-testid="support-usage"')
    return None if start < 0 else html[start : html.find("</div>\n  </div>", start)]


@pytest.fixture
def worked(clock, org, org_ticket, staff):
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=600)
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=150)


def test_a_member_sees_the_months_hours_of_their_organisation(client, member, worked):
    client.force_login(member)
    card = usage_card(client.get("/"))
    assert "Support hours this month: <strong>12.5 of 20 h (62 %)</strong>" in card
    assert "Basic contract" in card
    assert "progress-bar pct-62" in card  # the bar's width: a class (the CSP refuses style=)
    assert "Acme Estates · January 2026 (America/New_York)" in card
    assert "7.5 h left" in card


def test_a_member_of_another_organisation_sees_only_their_own(client, worked, service, premium):
    rival = OrganizationFactory(name="Rival Homes", service=service)
    ContractPeriodFactory(organization=rival, contract=premium)
    customer = OrganizationMemberFactory(organization=rival).user
    client.force_login(customer)
    response = client.get("/")
    card = usage_card(response)
    assert "0 of 80 h (0 %)" in card and "Premium contract" in card
    html = response.content.decode()
    assert "Acme Estates" not in html and "12.5" not in html


@pytest.mark.parametrize("who", ["no_organisation", "staff", "no_contract"])
def test_nothing_is_shown_without_an_organisation_or_a_contract(
    client, worked, org, member, staff, who
):
    if who == "no_organisation":
        user = factories.CustomerFactory(services=[org.service])
    elif who == "staff":
        user = staff
    else:
        services.organization_set_contract(organization=org, contract=None, month=JANUARY, by=staff)
        user = member
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert usage_card(response) is None
    assert "Support hours" not in response.content.decode()


def test_anonymous_visitors_see_no_hours(client, worked):
    assert "Support hours" not in client.get("/").content.decode()


def test_the_bar_turns_red_past_the_hours(client, clock, org, member, org_ticket, staff):
    TimeEntryFactory(
        ticket=org_ticket,
        organization=org,
        staff=staff,
        minutes=21 * 60,
        worked_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    client.force_login(member)
    card = usage_card(client.get("/"))
    assert "21 of 20 h (105 %)" in card
    assert "progress-bar pct-100 bg-danger" in card
    assert "all included hours used" in card


def test_the_organisation_and_contract_names_are_escaped(client, worked, org, member, service):
    org.name = "<script>alert(1)</script>"
    org.save(update_fields=["name"])
    contract = SupportContractFactory(service=service, name="<i>Gold</i>")
    ContractPeriodFactory(organization=org, contract=contract, starts_on=JANUARY)
    client.force_login(member)
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<i>Gold</i>" not in html and "&lt;i&gt;Gold&lt;/i&gt; contract" in html


def test_a_contract_of_zero_hours_shows_the_hours_used_without_a_percentage(
    client, worked, org, member, service
):
    ContractPeriodFactory(
        organization=org,
        starts_on=JANUARY,
        contract=SupportContractFactory(service=service, name="On demand", hours_per_month=0),
    )
    client.force_login(member)
    card = usage_card(client.get("/"))
    assert "Support hours this month: <strong>12.5 of 0 h</strong>" in card
    assert "None" not in card and "progress-bar" not in card
    assert "no hours included" in card


def test_the_last_evening_of_the_month_in_the_services_zone_still_shows_that_month(
    client, clock, org, member, org_ticket, staff
):
    """23:30 on 31 January in New York is 04:30 UTC on 1 February: the member still sees
    January and its hours; at local midnight February starts empty."""
    TimeEntryFactory(
        ticket=org_ticket,
        organization=org,
        staff=staff,
        minutes=90,
        worked_at=datetime(2026, 1, 20, tzinfo=UTC),
    )
    client.force_login(member)
    clock.move_to(datetime(2026, 2, 1, 4, 30, tzinfo=UTC))
    card = usage_card(client.get("/"))
    assert "January 2026" in card and "1.5 of 20 h (7 %)" in card
    clock.move_to(datetime(2026, 2, 1, 5, 0, tzinfo=UTC))
    card = usage_card(client.get("/"))
    assert "February 2026" in card and "0 of 20 h (0 %)" in card
