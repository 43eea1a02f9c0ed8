"""Contract hours and time entries through the API: a customer reads their organisation's
month, staff the organisations of their services and the time of the tickets they may work,
and log time — through contracts.selectors and contracts.services, in the portal's scope."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from api.models import ApiWrite
from contracts import services
from contracts.models import OrganizationMember, TimeEntry, UsageAlert
from tests import factories
from tests.api.conftest import ApiClient, make_token
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
    SupportContractFactory,
)
from tickets.services import ticket_escalate, ticket_reply

pytestmark = pytest.mark.django_db

# Tuesday 20 January 2026, 10:00 in New York.
NOW = datetime(2026, 1, 20, 15, 0, tzinfo=UTC)
USAGE = "/api/v1/contracts/usage/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _organization(service, name, hours=20):
    organization = OrganizationFactory(name=name, service=service)
    contract = SupportContractFactory(service=service, name=f"{name} plan", hours_per_month=hours)
    ContractPeriodFactory(organization=organization, starts_on=date(2025, 6, 1), contract=contract)
    member = OrganizationMemberFactory(
        organization=organization, user=factories.CustomerFactory(services=[service])
    ).user
    return organization, member


@pytest.fixture
def org(service):
    return _organization(service, "Acme")


@pytest.fixture
def org_ticket(org, service, priority):
    return factories.TicketFactory(customer=org[1], service=service, priority=priority)


def _log(ticket, staff, minutes, at=None):
    return services.time_entry_log(ticket=ticket, by=staff, minutes=minutes, at=at)


def test_a_customer_reads_their_organisations_month(org, org_ticket, tier1_staff, service):
    organization, member = org
    _log(org_ticket, tier1_staff, 990)
    # Another organisation's time, and last month's, count for nobody here.
    _, globex_member = _organization(service, "Globex")
    _log(factories.TicketFactory(customer=globex_member, service=service), tier1_staff, 600)
    _log(org_ticket, tier1_staff, 300, at=NOW - timedelta(days=25))
    response = ApiClient(make_token(member)[1]).get(USAGE)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "organization": organization.pk,
                "organization_name": "Acme",
                "service": service.slug,
                "month": "2026-01-01",
                "contract": "Acme plan",
                "included_minutes": 1200,
                "used_minutes": 990,
                "included_hours": "20",
                "used_hours": "16.5",
                "remaining_hours": "3.5",
                "percent": 82,
                "level": "warning",
            }
        ],
    }


def test_a_customer_without_an_organisation_or_contract_reads_no_row(customer, service):
    assert ApiClient(make_token(customer)[1]).get(USAGE).json()["results"] == []
    organization = OrganizationFactory(name="No plan", service=service)
    OrganizationMemberFactory(organization=organization, user=customer)
    assert ApiClient(make_token(customer)[1]).get(USAGE).json()["results"] == []


def test_staff_read_the_organisations_of_their_services_only(org, service, tier1_staff):
    mine = factories.StaffFactory(tier=1, services=[service])
    elsewhere = factories.ServiceFactory()
    _organization(elsewhere, "Initech")
    unlimited = ApiClient(make_token(tier1_staff)[1]).get(USAGE).json()["results"]
    assert sorted(row["organization_name"] for row in unlimited) == ["Acme", "Initech"]
    limited = ApiClient(make_token(mine)[1]).get(USAGE).json()["results"]
    assert [row["organization_name"] for row in limited] == ["Acme"]
    outsider = factories.StaffFactory(tier=3, services=[elsewhere])
    rows = ApiClient(make_token(outsider)[1]).get(USAGE).json()["results"]
    assert [row["organization_name"] for row in rows] == ["Initech"]


@pytest.mark.parametrize("count", [1, 30])
def test_staff_usage_queries_do_not_grow(service, tier1_staff, count, django_assert_num_queries):
    for n in range(count):
        _organization(service, f"Org {n}")
    client = ApiClient(make_token(tier1_staff, "read")[1])
    client.get(USAGE)  # last_used_at written
    # token+user, tier groups, permissions (user, groups), staff services, the page of
    # organisations, their contracts, their minutes (one sum per month and time zone)
    with django_assert_num_queries(8):
        assert len(client.get(USAGE, {"page_size": 100}).json()["results"]) == count


@pytest.mark.parametrize("count", [1, 30])
def test_customer_usage_queries_do_not_grow(
    org, org_ticket, tier1_staff, count, django_assert_num_queries
):
    for _ in range(count):
        _log(org_ticket, tier1_staff, 5)
    client = ApiClient(make_token(org[1], "read")[1])
    client.get(USAGE)
    # token+user, membership, contract, minutes
    with django_assert_num_queries(4):
        assert client.get(USAGE).json()["results"][0]["used_minutes"] == 5 * count


def test_staff_list_and_log_time_on_a_ticket_they_work(org_ticket, tier1_staff):
    _log(org_ticket, tier1_staff, 30)
    client = ApiClient(make_token(tier1_staff)[1])
    path = f"/api/v1/tickets/{org_ticket.pk}/time-entries/"
    created = client.post(path, {"minutes": 45, "note": "Restored the backup"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["minutes"], body["note"], body["staff"], body["voided_at"]) == (
        45,
        "Restored the backup",
        tier1_staff.email,
        None,
    )
    entry = TimeEntry.objects.get(pk=body["id"])
    assert (
        entry.organization_id
        == OrganizationMember.objects.get(user=org_ticket.customer).organization_id
    )
    assert [w.target for w in ApiWrite.objects.all()] == [f"time_entry:{entry.pk}"]
    listed = client.get(path).json()["results"]
    assert [row["minutes"] for row in listed] == [30, 45]


def test_logging_past_80_percent_records_the_usage_email(org_ticket, tier1_staff):
    client = ApiClient(make_token(tier1_staff)[1])
    response = client.post(f"/api/v1/tickets/{org_ticket.pk}/time-entries/", {"minutes": 960})
    assert response.status_code == 201
    assert UsageAlert.objects.filter(threshold=80).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minutes": 0}, "minutes"),
        ({"minutes": 60, "at": "2025-11-01T10:00:00Z"}, "at"),
        ({"minutes": 60, "at": "2026-01-21T10:00:00Z"}, "at"),
        ({}, "minutes"),
    ],
)
def test_refused_time_is_a_400_and_records_nothing(org_ticket, tier1_staff, body, field):
    client = ApiClient(make_token(tier1_staff)[1])
    response = client.post(f"/api/v1/tickets/{org_ticket.pk}/time-entries/", body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert not TimeEntry.objects.exists() and not ApiWrite.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_time_of_tickets_outside_the_scope_is_404(org_ticket, service, method):
    """Another service's staff, another customer, or no such ticket: 404, nothing logged."""
    elsewhere = factories.StaffFactory(tier=3, services=[factories.ServiceFactory()])
    stranger = factories.CustomerFactory(services=[service])
    path = f"/api/v1/tickets/{org_ticket.pk}/time-entries/"
    for user, where in [(elsewhere, path), (stranger, path)]:
        response = getattr(ApiClient(make_token(user)[1]), method)(where, {"minutes": 5})
        assert response.status_code == 404, (user, response.content)
    missing = f"/api/v1/tickets/{org_ticket.pk + 1000}/time-entries/"
    staff = factories.StaffFactory(tier=1)
    assert getattr(ApiClient(make_token(staff)[1]), method)(
        missing, {"minutes": 5}
    ).status_code == (404)
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_ticket_above_the_members_tier_is_404_and_one_they_worked_403(
    org_ticket, tier1_staff, method
):
    path = f"/api/v1/tickets/{org_ticket.pk}/time-entries/"
    ticket_reply(ticket=org_ticket, author=tier1_staff, body="Looking")
    ticket_escalate(ticket=org_ticket, by=tier1_staff, reason="needs tier 2")
    never_worked = factories.StaffFactory(tier=1)
    response = getattr(ApiClient(make_token(never_worked)[1]), method)(path, {"minutes": 5})
    assert response.status_code == 404
    # Tier 1 worked it before the escalation: readable as a ticket, its time not theirs now.
    response = getattr(ApiClient(make_token(tier1_staff)[1]), method)(path, {"minutes": 5})
    assert response.status_code == 403
    assert not TimeEntry.objects.exists()


def test_the_customer_of_the_ticket_may_not_read_or_log_its_time(org, org_ticket):
    client = ApiClient(make_token(org[1])[1])
    path = f"/api/v1/tickets/{org_ticket.pk}/time-entries/"
    assert client.get(path).status_code == 403
    assert client.post(path, {"minutes": 5}).status_code == 403
    assert not TimeEntry.objects.exists()


def _void(user, ticket, entry, reason="duplicate"):
    path = f"/api/v1/tickets/{ticket.pk}/time-entries/{entry.pk}/void/"
    return ApiClient(make_token(user)[1]).post(path, {"reason": reason})


def test_staff_void_time_on_a_ticket_they_work(org_ticket, tier1_staff):
    """As the admin's time entry page: kept on record, flagged, out of the sums, attributed."""
    entry = _log(org_ticket, tier1_staff, 90)
    response = _void(tier1_staff, org_ticket, entry, "Logged twice")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["voided_by"], body["void_reason"]) == (
        entry.pk,
        tier1_staff.email,
        "Logged twice",
    )
    entry.refresh_from_db()
    assert entry.voided_at == NOW and entry.voided_by == tier1_staff
    assert [w.target for w in ApiWrite.objects.all()] == [f"time_entry:{entry.pk}"]
    usage = ApiClient(make_token(tier1_staff)[1]).get(USAGE).json()["results"][0]
    assert usage["used_minutes"] == 0
    # Once only, and with a reason: the service's refusals, as 400s recording nothing.
    again = _void(tier1_staff, org_ticket, entry)
    assert again.status_code == 400 and "already voided" in str(again.json()["errors"])
    other = _log(org_ticket, tier1_staff, 15)
    assert "reason" in _void(tier1_staff, org_ticket, other, "   ").json()["errors"]
    assert ApiWrite.objects.count() == 1
    other.refresh_from_db()
    assert other.voided_at is None


def test_voiding_outside_the_scope_is_404_or_403_and_changes_nothing(
    org, org_ticket, service, priority, tier1_staff
):
    """Another service's staff, another ticket's entry in the path: 404; the ticket's customer,
    or staff whose tier the ticket moved past: 403."""
    entry = _log(org_ticket, tier1_staff, 30)
    elsewhere = factories.StaffFactory(tier=3, services=[factories.ServiceFactory()])
    assert _void(elsewhere, org_ticket, entry).status_code == 404
    other_ticket = factories.TicketFactory(customer=org[1], service=service, priority=priority)
    assert _void(tier1_staff, other_ticket, entry).status_code == 404
    assert _void(org[1], org_ticket, entry).status_code == 403
    ticket_reply(ticket=org_ticket, author=tier1_staff, body="Looking")
    ticket_escalate(ticket=org_ticket, by=tier1_staff, reason="needs tier 2")
    assert _void(tier1_staff, org_ticket, entry).status_code == 403
    entry.refresh_from_db()
    assert entry.voided_at is None and not ApiWrite.objects.exists()


@pytest.mark.parametrize("count", [1, 30])
def test_time_entries_queries_do_not_grow(org_ticket, count, django_assert_num_queries):
    staff = [factories.StaffFactory(tier=1) for _ in range(2)]
    for n in range(count):
        _log(org_ticket, staff[n % 2], 5)
    client = ApiClient(make_token(staff[0], "read")[1])
    path = f"/api/v1/tickets/{org_ticket.pk}/time-entries/"
    client.get(path)
    # token+user, tier groups, staff services, the ticket, permissions (user, groups), the page
    with django_assert_num_queries(7):
        assert len(client.get(path).json()["results"]) == count


def test_a_bad_page_size_is_refused_for_customers_too(org):
    response = ApiClient(make_token(org[1])[1]).get(USAGE, {"page_size": 0})
    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]
