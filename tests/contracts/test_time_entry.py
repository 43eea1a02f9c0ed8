"""Logging time, voiding it, and setting an organisation's members and contract: every bad
input is refused with a clear message and changes nothing."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from contracts import services
from contracts.models import ContractPeriod, OrganizationMember, TimeEntry
from contracts.selectors import contract_in_force, organization_month_usage
from notifications.models import Notification
from tests import factories
from tests.contracts.conftest import JANUARY, NOW
from tests.contracts.factories import (
    OrganizationFactory,
    SupportContractFactory,
    TimeEntryFactory,
)

pytestmark = pytest.mark.django_db


def nothing_written():
    return not TimeEntry.objects.exists() and not Notification.objects.exists()


def test_logging_time_records_it_against_the_customers_organisation(clock, org, org_ticket, staff):
    entry = services.time_entry_log(
        ticket=org_ticket, by=staff, minutes=90, note="  Restarted the importer  "
    )
    entry.refresh_from_db()
    assert (entry.organization, entry.staff, entry.minutes) == (org, staff, 90)
    assert entry.worked_at == NOW and entry.created_at == NOW
    assert entry.note == "Restarted the importer"
    assert organization_month_usage(organization=org, month=JANUARY).used_minutes == 90


def test_time_may_be_logged_for_earlier_in_this_month_or_last_month(clock, org, org_ticket, staff):
    at = datetime(2025, 12, 1, 5, 0, tzinfo=UTC)  # the first instant of December in New York
    entry = services.time_entry_log(ticket=org_ticket, by=staff, minutes=30, at=at)
    assert entry.worked_at == at


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        (0, "Log a positive number of minutes"),
        (-30, "To correct an entry, void it"),
        (24 * 60 + 1, "At most 1440 minutes"),
        ("90", "whole number"),
        (1.5, "whole number"),
        (True, "whole number"),
    ],
)
def test_zero_negative_or_odd_minutes_are_refused(clock, org_ticket, staff, minutes, message):
    with pytest.raises(ValidationError) as error:
        services.time_entry_log(ticket=org_ticket, by=staff, minutes=minutes)
    assert message in error.value.message_dict["minutes"][0]
    assert nothing_written()


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (NOW + timedelta(minutes=1), "Work cannot be logged in the future."),
        # 30 November 23:59 in New York: November is closed on 20 January.
        (datetime(2025, 12, 1, 4, 59, tzinfo=UTC), "this month and last month only"),
        (datetime(2026, 1, 10, 12, 0), "with a zone"),  # naive
    ],
)
def test_a_future_closed_or_naive_time_is_refused(clock, org_ticket, staff, at, message):
    with pytest.raises(ValidationError) as error:
        services.time_entry_log(ticket=org_ticket, by=staff, minutes=30, at=at)
    assert message in error.value.message_dict["at"][0]
    assert nothing_written()


def test_a_customer_cannot_log_time(clock, org_ticket, member):
    with pytest.raises(PermissionDenied, match="Only staff may log time"):
        services.time_entry_log(ticket=org_ticket, by=member, minutes=30)
    assert nothing_written()


def test_staff_cannot_log_time_on_a_ticket_above_their_tier(clock, org_ticket, staff):
    org_ticket.tier = 2
    org_ticket.save(update_fields=["tier"])
    with pytest.raises(PermissionDenied, match="outside your tier"):
        services.time_entry_log(ticket=org_ticket, by=staff, minutes=30)
    assert nothing_written()
    tier2 = factories.StaffFactory(tier=2)
    assert services.time_entry_log(ticket=org_ticket, by=tier2, minutes=30).pk


def test_a_note_too_long_is_refused(clock, org_ticket, staff):
    with pytest.raises(ValidationError) as error:
        services.time_entry_log(ticket=org_ticket, by=staff, minutes=30, note="x" * 501)
    assert "to 500 characters at most" in error.value.message_dict["note"][0]
    assert nothing_written()


def test_time_on_a_ticket_of_another_service_counts_against_no_contract(clock, org, member, staff):
    """The organisation's contract is with its service; a member's ticket elsewhere is
    recorded, billed to nobody."""
    elsewhere = factories.TicketFactory(customer=member, service=factories.ServiceFactory())
    entry = services.time_entry_log(ticket=elsewhere, by=staff, minutes=30)
    assert entry.organization is None
    assert organization_month_usage(organization=org, month=JANUARY).used_minutes == 0


def test_time_on_a_ticket_of_a_customer_without_organisation_is_still_recorded(
    clock, service, priority, staff
):
    ticket = factories.TicketFactory(service=service, priority=priority)
    entry = services.time_entry_log(ticket=ticket, by=staff, minutes=30)
    assert entry.organization is None


def test_time_already_logged_stays_with_the_organisation_when_its_customer_leaves(
    clock, org, member, org_ticket, staff
):
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=30)
    services.organization_remove_member(organization=org, user=member, by=staff)
    assert organization_month_usage(organization=org, month=JANUARY).used_minutes == 30
    assert services.time_entry_log(ticket=org_ticket, by=staff, minutes=5).organization is None


def test_the_database_refuses_a_non_positive_entry_written_around_the_service(org_ticket, staff):
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntry.objects.create(
            ticket=org_ticket, staff=staff, minutes=0, worked_at=NOW, organization=None
        )


# --- corrections ---------------------------------------------------------------------------


def test_a_voided_entry_leaves_the_sums_and_stays_on_record(clock, org, org_ticket, staff):
    entry = services.time_entry_log(ticket=org_ticket, by=staff, minutes=600)
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=60)
    services.time_entry_void(entry=entry, by=staff, reason="Logged 600 for 60")
    entry.refresh_from_db()
    assert (entry.voided_at, entry.voided_by, entry.void_reason) == (
        NOW,
        staff,
        "Logged 600 for 60",
    )
    assert organization_month_usage(organization=org, month=JANUARY).used_minutes == 60


def test_voiding_needs_a_reason_staff_and_a_live_entry(clock, org_ticket, staff, member):
    entry = services.time_entry_log(ticket=org_ticket, by=staff, minutes=60)
    with pytest.raises(ValidationError, match="Say why"):
        services.time_entry_void(entry=entry, by=staff, reason="  ")
    with pytest.raises(PermissionDenied, match="Only staff"):
        services.time_entry_void(entry=entry, by=member, reason="mine")
    entry.refresh_from_db()
    assert entry.voided_at is None
    services.time_entry_void(entry=entry, by=staff, reason="duplicate")
    with pytest.raises(ValidationError, match="already voided"):
        services.time_entry_void(entry=entry, by=staff, reason="again")


def test_staff_cannot_void_time_on_a_ticket_above_their_tier(clock, org_ticket, staff):
    entry = services.time_entry_log(ticket=org_ticket, by=staff, minutes=60)
    org_ticket.tier = 2
    org_ticket.save(update_fields=["tier"])
    with pytest.raises(PermissionDenied, match="outside your tier"):
        services.time_entry_void(entry=entry, by=staff, reason="mine")
    entry.refresh_from_db()
    assert entry.voided_at is None
    services.time_entry_void(entry=entry, by=factories.StaffFactory(tier=2), reason="duplicate")


def test_an_entry_of_a_closed_month_cannot_be_voided(clock, org, org_ticket, staff):
    old = TimeEntryFactory(
        ticket=org_ticket,
        organization=org,
        staff=staff,
        worked_at=datetime(2025, 11, 15, tzinfo=UTC),
    )
    with pytest.raises(ValidationError, match="closed"):
        services.time_entry_void(entry=old, by=staff, reason="late")
    old.refresh_from_db()
    assert old.voided_at is None


# --- members and contracts -----------------------------------------------------------------


def test_a_user_belongs_to_one_organisation_at_most(clock, org, member, staff):
    other = OrganizationFactory(service=org.service)
    with pytest.raises(ValidationError, match="already belongs to Acme Estates"):
        services.organization_add_member(organization=other, user=member, by=staff)
    assert OrganizationMember.objects.get(user=member).organization == org
    # Adding a member twice to the same organisation changes nothing.
    services.organization_add_member(organization=org, user=member, by=staff)
    assert OrganizationMember.objects.filter(user=member).count() == 1


def test_staff_and_inactive_users_are_not_members(clock, org, staff):
    with pytest.raises(ValidationError, match="Staff cannot be members"):
        services.organization_add_member(organization=org, user=staff, by=staff)
    inactive = factories.CustomerFactory(is_active=False)
    with pytest.raises(ValidationError, match="not an active account"):
        services.organization_add_member(organization=org, user=inactive, by=staff)
    assert not OrganizationMember.objects.exists()


def test_only_staff_manage_organisations(clock, org, member, service, basic):
    with pytest.raises(PermissionDenied):
        services.organization_create(name="Mine", service=service, by=member)
    with pytest.raises(PermissionDenied):
        services.organization_set_contract(
            organization=org, contract=None, month=JANUARY, by=member
        )
    assert contract_in_force(organization=org, month=JANUARY) == basic


def test_a_contract_change_mid_month_applies_to_the_whole_month(
    clock, org, org_ticket, staff, basic, premium
):
    """An upgrade on 20 January gives January the Premium hours; December keeps Basic."""
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=600)
    period = services.organization_set_contract(
        organization=org, contract=premium, month=date(2026, 1, 20), by=staff
    )
    assert (period.starts_on, period.set_by) == (JANUARY, staff)
    usage = organization_month_usage(organization=org, month=JANUARY)
    assert (usage.contract, usage.percent) == (premium, 12)
    assert contract_in_force(organization=org, month=date(2025, 12, 1)) == basic
    # Changing it again in the same month rewrites the month's row, not a second one.
    services.organization_set_contract(organization=org, contract=basic, month=JANUARY, by=staff)
    assert ContractPeriod.objects.filter(organization=org, starts_on=JANUARY).count() == 1
    assert contract_in_force(organization=org, month=JANUARY) == basic


def test_the_same_contract_again_writes_nothing(clock, org, staff, basic):
    assert (
        services.organization_set_contract(
            organization=org, contract=basic, month=date(2026, 3, 1), by=staff
        )
        is None
    )
    assert ContractPeriod.objects.filter(organization=org).count() == 1


def test_a_past_month_or_another_services_contract_is_refused(clock, org, staff, premium):
    with pytest.raises(ValidationError, match="past month keeps"):
        services.organization_set_contract(
            organization=org, contract=premium, month=date(2025, 12, 1), by=staff
        )
    foreign = SupportContractFactory(service=factories.ServiceFactory(), name="Gold")
    with pytest.raises(ValidationError, match="Gold is a contract of"):
        services.organization_set_contract(
            organization=org, contract=foreign, month=JANUARY, by=staff
        )
    assert ContractPeriod.objects.filter(organization=org).count() == 1


def test_organisation_names_are_unique_whatever_the_case(clock, org, staff, service):
    with pytest.raises(ValidationError, match="already an organisation named"):
        services.organization_create(name=" acme estates ", service=service, by=staff)
    with pytest.raises(ValidationError, match="a name"):
        services.organization_create(name="  ", service=service, by=staff)
