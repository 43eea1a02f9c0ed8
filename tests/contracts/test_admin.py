"""Staff in admin: organisations with members and contract, the time-entry list, the monthly
usage report, and logging time on the ticket page. Scoped, delegated, no N+1."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts import services
from contracts.admin.ticket_time import TimeEntryLogFormSet
from contracts.models import (
    ContractPeriod,
    Organization,
    OrganizationMember,
    TimeEntry,
    UsageAlert,
)
from notifications.models import Notification
from tests import factories
from tests.contracts.factories import (
    ContractPeriodFactory,
    OrganizationFactory,
    OrganizationMemberFactory,
    TimeEntryFactory,
)

pytestmark = pytest.mark.django_db

ORGS = reverse("admin:contracts_organization_changelist")
ORG_ADD = reverse("admin:contracts_organization_add")
REPORT = reverse("admin:contracts_organization_usage")
ENTRIES = reverse("admin:contracts_timeentry_changelist")


def org_url(org):
    return reverse("admin:contracts_organization_change", args=[org.pk])


def ticket_url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def entry_url(entry):
    return reverse("admin:contracts_timeentry_change", args=[entry.pk])


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def queries(client, url):
    client.get(url)  # warm caches that have nothing to do with the rows
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries), response


def add_orgs(service, contract, count):
    for _ in range(count):
        org = OrganizationFactory(service=service)
        ContractPeriodFactory(organization=org, starts_on=date(2025, 6, 1), contract=contract)
        member = OrganizationMemberFactory(organization=org).user
        ticket = factories.TicketFactory(customer=member, service=service)
        TimeEntryFactory(
            ticket=ticket, organization=org, minutes=90, worked_at=datetime(2026, 1, 5, tzinfo=UTC)
        )


def page_post_data(response):
    """What the change page would post back unchanged: the main form and every inline's
    management form and hidden fields."""
    data = {}
    form = response.context["adminform"].form
    for field in form:
        if field.field.disabled:
            continue
        value = field.value()
        if value is None or value is False:
            continue
        data[field.html_name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for subform in formset.initial_forms:
            for field in subform.hidden_fields():
                data[field.html_name] = field.value() or ""
    return data


def log_prefix(response):
    for inline in response.context["inline_admin_formsets"]:
        if isinstance(inline.formset, TimeEntryLogFormSet):
            return inline.formset.prefix
    raise AssertionError("no log-time row on the page")


def member_prefix(response):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is OrganizationMember:
            return inline.formset.prefix
    raise AssertionError("no members on the page")


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


def test_time_entry_list_costs_the_same_for_1_or_30_entries(
    client, clock, superuser, org, org_ticket, staff
):
    client.force_login(superuser)
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=10)
    few, _ = queries(client, ENTRIES)
    others = [factories.StaffFactory(tier=1) for _ in range(3)]
    for n in range(29):
        ticket = factories.TicketFactory(service=org.service)
        services.time_entry_log(ticket=ticket, by=others[n % 3], minutes=10)
    many, response = queries(client, ENTRIES)
    assert len(response.context["cl"].result_list) == 30
    assert many == few


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


def test_ticket_page_costs_the_same_with_1_or_20_time_entries(
    client, clock, superuser, org_ticket, staff
):
    client.force_login(superuser)
    services.time_entry_log(ticket=org_ticket, by=staff, minutes=10)
    few, _ = queries(client, ticket_url(org_ticket))
    for n in range(19):
        services.time_entry_log(
            ticket=org_ticket, by=factories.StaffFactory(tier=1), minutes=10 + n
        )
    many, response = queries(client, ticket_url(org_ticket))
    assert response.content.decode().count("void…") == 20
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


# --- time entries: scope, filters, voiding -------------------------------------------------


def test_staff_see_only_time_on_tickets_of_their_tier(client, clock, org, org_ticket, staff):
    mine = services.time_entry_log(ticket=org_ticket, by=staff, minutes=10)
    high = factories.TicketFactory(service=org.service, tier=2)
    above = services.time_entry_log(ticket=high, by=factories.StaffFactory(tier=2), minutes=20)
    client.force_login(staff)
    listed = {e.pk for e in client.get(ENTRIES).context["cl"].result_list}
    assert listed == {mine.pk}
    assert client.get(entry_url(above)).status_code == 302  # "doesn't exist" → index


def test_the_month_filter_follows_each_services_clock(client, clock, superuser, org, org_ticket):
    late_january = TimeEntryFactory(
        ticket=org_ticket, organization=org, worked_at=datetime(2026, 2, 1, 4, 30, tzinfo=UTC)
    )
    TimeEntryFactory(
        ticket=org_ticket, organization=org, worked_at=datetime(2026, 2, 1, 5, 30, tzinfo=UTC)
    )
    client.force_login(superuser)
    listed = client.get(f"{ENTRIES}?month=2026-01").context["cl"].result_list
    assert [e.pk for e in listed] == [late_january.pk]


def test_an_entry_is_voided_from_its_page_with_a_reason(client, clock, org, org_ticket, staff):
    entry = services.time_entry_log(ticket=org_ticket, by=staff, minutes=90)
    client.force_login(staff)
    response = client.post(entry_url(entry), {"void_reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    entry.refresh_from_db()
    assert entry.voided_at is None
    client.post(entry_url(entry), {"void_reason": "Logged on the wrong ticket"})
    entry.refresh_from_db()
    assert (entry.voided_by, entry.void_reason) == (staff, "Logged on the wrong ticket")
    # A voided entry is history: its page is read-only.
    page = client.get(entry_url(entry)).content.decode()
    assert 'name="void_reason"' not in page


# --- logging time on the ticket page -------------------------------------------------------


def test_time_is_logged_from_the_ticket_page(client, clock, org, member, org_ticket, staff):
    client.force_login(staff)
    page = client.get(ticket_url(org_ticket))
    prefix = log_prefix(page)
    data = page_post_data(page)
    data.update({f"{prefix}-0-minutes": "990", f"{prefix}-0-note": "Fixed the <import>"})
    response = client.post(ticket_url(org_ticket), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.staff, entry.organization) == (990, staff, org)
    assert entry.note == "Fixed the <import>"
    # 16.5 of 20 h: the 80 % email was recorded with it.
    assert Notification.objects.filter(key__startswith="contracts:usage:").count() == 1
    page = client.get(ticket_url(org_ticket)).content.decode()
    assert "Fixed the &lt;import&gt;" in page and "990 min (16.5 h)" in page


@pytest.mark.parametrize(
    ("minutes", "worked_at", "message"),
    [
        ("0", ("", ""), "Ensure this value is greater than or equal to 1."),
        ("-15", ("", ""), "Ensure this value is greater than or equal to 1."),
        ("30", ("2026-01-21", "09:00:00"), "Work cannot be logged in the future."),
        ("30", ("2025-11-30", "12:00:00"), "this month and last month only"),
    ],
)
def test_bad_time_on_the_ticket_page_is_refused_and_nothing_is_saved(
    client, clock, org, org_ticket, staff, minutes, worked_at, message
):
    client.force_login(staff)
    page = client.get(ticket_url(org_ticket))
    prefix = log_prefix(page)
    data = page_post_data(page)
    data.update(
        {
            f"{prefix}-0-minutes": minutes,
            f"{prefix}-0-worked_at_0": worked_at[0],
            f"{prefix}-0-worked_at_1": worked_at[1],
            "public_reply": "This reply must not go out either.",
        }
    )
    response = client.post(ticket_url(org_ticket), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TimeEntry.objects.exists()
    assert not org_ticket.messages.exists()


def test_escalating_and_logging_time_in_one_save_is_refused_clearly_and_saves_nothing(
    client, clock, org, member, org_ticket, staff
):
    """The ticket's changes are saved before its time: escalated, the ticket leaves a tier 1
    member's reach, so the time is refused then. The page says so and keeps the ticket as it
    was (a bare 403 before), and the time logged on its own first is accepted."""
    client.force_login(staff)
    page = client.get(ticket_url(org_ticket))
    prefix = log_prefix(page)
    data = page_post_data(page)
    data.update({f"{prefix}-0-minutes": "30", "escalate": "on", "escalate_reason": "Needs a DBA"})
    response = client.post(ticket_url(org_ticket), data, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Nothing was saved: the time could not be logged with the other changes" in text
    assert "outside your tier" in text
    org_ticket.refresh_from_db()
    assert org_ticket.tier == 1
    assert not TimeEntry.objects.exists()
    assert not Notification.objects.exists()
    # Logged first, then escalated: both go through.
    data.pop("escalate"), data.pop("escalate_reason")
    assert client.post(ticket_url(org_ticket), data).status_code == 302
    assert TimeEntry.objects.get().minutes == 30


def test_a_ticket_page_saved_without_time_logs_none(client, clock, org_ticket, staff):
    client.force_login(staff)
    page = client.get(ticket_url(org_ticket))
    data = page_post_data(page)
    data["internal_note"] = "Looked into it"
    assert client.post(ticket_url(org_ticket), data).status_code == 302
    assert org_ticket.messages.count() == 1
    assert not TimeEntry.objects.exists()


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


def test_no_time_is_logged_when_the_tickets_own_change_is_refused(
    client, clock, service, org_ticket
):
    """The page says "Nothing was saved" when a ticket service refuses (escalating past the
    top tier of a plan with two tiers, which only the service knows): the time row too."""
    for level in (1, 2):
        factories.TierFactory(service=service, level=level)
    org_ticket.tier = 2
    org_ticket.save(update_fields=["tier"])
    client.force_login(factories.StaffFactory(tier=2))
    page = client.get(ticket_url(org_ticket))
    prefix = log_prefix(page)
    data = page_post_data(page)
    data.update(
        {
            f"{prefix}-0-minutes": "30",
            "internal_note": "Worked on it",
            "escalate": "on",
            "escalate_reason": "Beyond me",
        }
    )
    response = client.post(ticket_url(org_ticket), data, follow=True)
    assert "Nothing was saved: #" in response.content.decode()
    assert "is already at the top tier" in response.content.decode()
    assert not TimeEntry.objects.exists()
    assert not org_ticket.messages.exists()


def test_a_ticket_form_posted_without_the_time_rows_still_saves(client, clock, org_ticket, staff):
    """A client that never rendered the inlines posts no management form: nothing is logged
    and the ticket's change goes through."""
    client.force_login(staff)
    page = client.get(ticket_url(org_ticket))
    data = {
        key: value
        for key, value in page_post_data(page).items()
        if not key.startswith("time_entries")
    }
    data["internal_note"] = "Looked into it"
    assert client.post(ticket_url(org_ticket), data).status_code == 302
    assert org_ticket.messages.count() == 1
