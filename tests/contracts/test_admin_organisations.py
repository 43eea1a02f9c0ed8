"""Staff in admin: organisations with members and contract, and the monthly usage report.
Scoped, delegated, no N+1; every contracts page renders for a tier member and a superuser."""

from datetime import UTC, date, datetime

import pytest

from contracts import services
from contracts.models import (
    ContractPeriod,
    Organization,
    OrganizationMember,
    UsageAlert,
)
from tests import factories
from tests.contracts.admin_pages import (
    ENTRIES,
    ORG_ADD,
    ORGS,
    REPORT,
    entry_url,
    member_prefix,
    org_url,
    page_post_data,
    queries,
    ticket_url,
)
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
    TimeEntryFactory,
)

pytestmark = pytest.mark.django_db


def add_orgs(service, contract, count):
    for _ in range(count):
        org = OrganizationFactory(service=service)
        ContractPeriodFactory(organization=org, starts_on=date(2025, 6, 1), contract=contract)
        member = OrganizationMemberFactory(organization=org).user
        ticket = factories.TicketFactory(customer=member, service=service)
        TimeEntryFactory(
            ticket=ticket, organization=org, minutes=90, worked_at=datetime(2026, 1, 5, tzinfo=UTC)
        )


# --- rendering and queries ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["superuser", "tier1"])
def test_every_contracts_page_renders(request, client, clock, org, member, org_ticket, staff, who):
    user = request.getfixturevalue("superuser") if who == "superuser" else staff
    entry = services.time_entry_log(ticket=org_ticket, by=staff, minutes=90)
    client.force_login(user)
    urls = [
        ORGS,
        org_url(org),
        REPORT,
        f"{REPORT}?month=2025-12",
        ENTRIES,
        f"{ENTRIES}?month=2026-01&staff=me&voided=no&organization__id__exact={org.pk}",
        entry_url(entry),
        ticket_url(org_ticket),
    ]
    if who == "superuser":
        urls.append(ORG_ADD)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_organisation_list_and_report_cost_the_same_for_2_or_12_organisations(
    client, clock, superuser, service, basic
):
    client.force_login(superuser)
    add_orgs(service, basic, 2)
    few_list, _ = queries(client, ORGS)
    few_report, _ = queries(client, REPORT)
    add_orgs(service, basic, 10)
    many_list, response = queries(client, ORGS)
    many_report, _ = queries(client, REPORT)
    assert len(response.context["cl"].result_list) == 12
    assert (many_list, many_report) == (few_list, few_report)


def test_organisation_page_costs_the_same_with_1_or_8_members_periods_and_emails(
    client, clock, superuser, org, member, staff, basic, premium
):
    """Members, contract history and usage emails are inlines: each is one query, whatever
    its length."""
    client.force_login(superuser)
    UsageAlert.objects.create(
        organization=org,
        month=date(2025, 6, 1),
        threshold=80,
        used_minutes=960,
        included_minutes=1200,
        contract=basic,
    )
    few, _ = queries(client, org_url(org))
    for n in range(7):
        OrganizationMemberFactory(organization=org)
        month = date(2025, 7 + n, 1) if n < 6 else date(2026, 1, 1)
        ContractPeriodFactory(organization=org, starts_on=month, contract=(premium, basic)[n % 2])
        for threshold in (80, 100):
            UsageAlert.objects.create(
                organization=org,
                month=month,
                threshold=threshold,
                used_minutes=1200,
                included_minutes=1200,
                contract=basic,
            )
    many, response = queries(client, org_url(org))
    listed = {
        inline.formset.model.__name__: len(inline.formset.initial_forms)
        for inline in response.context["inline_admin_formsets"]
    }
    assert listed == {"OrganizationMember": 8, "ContractPeriod": 8, "UsageAlert": 15}
    assert many == few


# --- the report ----------------------------------------------------------------------------


def test_the_report_shows_hours_used_included_and_percent(
    client, clock, superuser, org, member, org_ticket, staff
):
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=600)
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=400)  # 1000 min = 83 %
    idle = OrganizationFactory(name="Idle Co", service=org.service)
    client.force_login(superuser)
    response = client.get(f"{REPORT}?month=2026-01")
    rows = {row["organization"].name: row for row in response.context["rows"]}
    usage = rows["Acme Estates"]["usage"]
    assert (usage.used_hours, usage.included_hours, usage.percent) == ("16.7", "20", 83)
    assert [alert.threshold for alert in rows["Acme Estates"]["alerts"]] == [80]
    assert rows[idle.name]["usage"].contract is None
    html = response.content.decode()
    assert "Support hours used in January 2026" in html
    assert "83 %" in html and "80 % on 2026-01-20" in html
    # Another month reads that month's time.
    december = client.get(f"{REPORT}?month=2025-12").context["rows"]
    assert {row["organization"].name: row["usage"].used_minutes for row in december} == {
        "Acme Estates": 0,
        "Idle Co": 0,
    }


@pytest.mark.parametrize("month", ["2026-13", "January", "2026-1"])
def test_a_bad_month_in_the_report_is_refused_with_a_clear_message(
    client, clock, superuser, org, month
):
    client.force_login(superuser)
    response = client.get(f"{REPORT}?month={month}")
    assert response.status_code == 400
    text = response.content.decode()
    assert "is not a month" in text and 'data-testid="usage-report"' not in text


def test_staff_without_a_tier_or_permission_cannot_read_the_report(client, db):
    plain = factories.UserFactory(is_staff=True)
    client.force_login(plain)
    assert client.get(REPORT).status_code == 403


# --- organisations: members and contract ---------------------------------------------------


def test_tier_staff_read_organisations_but_do_not_change_them(client, clock, org, staff, premium):
    client.force_login(staff)
    page = client.get(org_url(org))
    assert page.status_code == 200
    assert 'name="contract"' not in page.content.decode()
    response = client.post(org_url(org), {"name": "Renamed", "contract": premium.pk})
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme Estates"


def test_a_superuser_creates_an_organisation_with_contract_and_member(
    client, clock, superuser, service, premium
):
    customer = factories.CustomerFactory(email="bo@new.example", services=[service])
    client.force_login(superuser)
    page = client.get(ORG_ADD)
    data = page_post_data(page)
    members = member_prefix(page)
    data.update(
        {
            "name": "New Estates",
            "service": service.pk,
            "contract": premium.pk,
            "contract_from": "2026-01",
            f"{members}-0-email": "BO@new.example",
        }
    )
    response = client.post(ORG_ADD, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    org = Organization.objects.get(name="New Estates")
    assert list(org.memberships.values_list("user", flat=True)) == [customer.pk]
    period = ContractPeriod.objects.get(organization=org)
    assert (period.contract, period.starts_on, period.set_by) == (
        premium,
        date(2026, 1, 1),
        superuser,
    )


def test_a_taken_name_whatever_its_case_is_refused_on_the_add_page(
    client, clock, superuser, org, service
):
    client.force_login(superuser)
    data = page_post_data(client.get(ORG_ADD))
    data.update({"name": "  ACME estates ", "service": service.pk, "contract_from": "2026-01"})
    response = client.post(ORG_ADD, data)
    assert response.status_code == 200
    assert "There is already an organisation named &#x27;ACME estates&#x27;." in (
        response.content.decode()
    )
    assert Organization.objects.count() == 1


def test_a_member_of_another_organisation_is_refused_with_a_clear_error(
    client, clock, superuser, org, member, service
):
    other = OrganizationFactory(name="Other Co", service=service)
    client.force_login(superuser)
    page = client.get(org_url(other))
    data = page_post_data(page)
    members = member_prefix(page)
    data[f"{members}-0-email"] = member.email
    response = client.post(org_url(other), data)
    assert response.status_code == 200
    assert "already belongs to Acme Estates" in response.content.decode()
    assert OrganizationMember.objects.get(user=member).organization == org


def test_the_contract_is_changed_from_next_month_on_the_organisation_page(
    client, clock, superuser, org, basic, premium
):
    client.force_login(superuser)
    page = client.get(org_url(org))
    data = page_post_data(page)
    assert data["contract"] == basic.pk and data["contract_from"] == "2026-01"
    data.update({"contract": premium.pk, "contract_from": "2026-02"})
    assert client.post(org_url(org), data).status_code == 302
    assert list(
        ContractPeriod.objects.filter(organization=org)
        .order_by("starts_on")
        .values_list("starts_on", "contract__name")
    ) == [(date(2025, 6, 1), "Basic"), (date(2026, 2, 1), "Premium")]
    page = client.get(org_url(org)).content.decode()
    assert "February 2026" in page  # the history lists the change


def test_removing_a_member_on_the_organisation_page(client, clock, superuser, org, member):
    client.force_login(superuser)
    page = client.get(org_url(org))
    data = page_post_data(page)
    members = member_prefix(page)
    data[f"{members}-0-DELETE"] = "on"
    assert client.post(org_url(org), data).status_code == 302
    assert not OrganizationMember.objects.exists()
