"""Staff in admin: the time-entry list (scoped like tickets, filtered by month on each
service's clock, voiding), and logging time on the ticket page with the ticket's own changes.
No N+1."""

from datetime import UTC, datetime

import pytest

from contracts import services
from contracts.models import TimeEntry
from notifications.models import Notification
from tests import factories
from tests.contracts.admin_pages import (
    ENTRIES,
    entry_url,
    log_prefix,
    page_post_data,
    queries,
    ticket_url,
)
from tests.contracts.factories import TimeEntryFactory

pytestmark = pytest.mark.django_db


# --- queries -------------------------------------------------------------------------------


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
