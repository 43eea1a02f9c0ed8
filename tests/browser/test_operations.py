"""The operations features in a real browser, against the live server.

1. A Tier 2 staff member opens an incident in the admin (a draft: no impact preselected),
   posts a public update and an internal note; while it is a draft an anonymous visitor sees
   nothing of it and nobody is emailed; the member checks the preview and publishes it; then
   the visitor sees the major outage and the public update on /status/, never the note, and
   the customer gets the update once; once staff resolve it, /status/ says "Operational".
2. A staff member logs 90 minutes on a customer's ticket from the ticket's admin page; the
   customer, a member of an organisation with a 20-hour contract, reads "1.5 of 20 h" on their
   dashboard, and staff read the same in the organisations list.
3. A staff member reads last month's success-metrics dashboard and uptime report, with figures
   worked out by hand below, and downloads the dashboard's CSV.

What staff and customers do goes through the pages; only the starting rows (services, plans'
priorities and targets, accounts, last month's tickets and incident) come from factories and
services. Each page visited is screenshotted (into ``docs/screenshots/`` with
``UPDATE_SCREENSHOTS=1``). ``serialized_rollback`` restores the rows the migrations wrote (the
tier groups and their permissions on incidents and contracts).
"""

import calendar
import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contracts import services as contract_services
from contracts.models import TimeEntry
from incidents.models import Incident
from notifications.models import Notification
from tests import factories
from tests.contracts.factories import SupportContractFactory
from tests.incidents.factories import IncidentPolicyFactory
from tests.metrics.factories import ServiceTargetsFactory
from tickets.models import Ticket
from tickets.services import customer_add_service

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PUBLIC_UPDATE = "Payments are failing for some customers; we are rolling back today's release."
INTERNAL_NOTE = "Suspect the new ledger index; Sam is on the database box."


def _admin_login(person, user):
    page = person.page
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools")).to_be_visible()
    return page


def _save_and_continue(page):
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("successfully")


def _priorities(service, *, p0_uptime=None):
    return {
        "P0": factories.PriorityFactory(
            service=service,
            code="P0",
            name="Critical",
            response="15m",
            resolution="4h",
            position=0,
            uptime=p0_uptime,
        ),
        "P1": factories.PriorityFactory(
            service=service, code="P1", name="High", response="1h", resolution="8h", position=1
        ),
    }


def _last_month():
    """The first day of last month (UTC, the services' zone here) and its number of days."""
    first = (timezone.now().date().replace(day=1) - timedelta(days=1)).replace(day=1)
    return first, calendar.monthrange(first.year, first.month)[1]


# --- 1. incident: admin → status page -----------------------------------------------------------


def test_incident_public_update_on_status_page_and_resolved(open_browser, live_server):
    service = factories.ServiceFactory(slug="billing", name="Billing platform")
    _priorities(service)
    IncidentPolicyFactory(service=service)
    # A customer of the service hears of public updates by email (and of nothing internal).
    customer = factories.CustomerFactory(email="ada@customer.example")
    customer_add_service(customer=customer, service=service)
    tier2 = factories.StaffFactory(email="sam@support.example", first_name="Sam", tier=2)

    # --- Staff open the incident from the admin's add form --------------------------------
    staff = open_browser()
    admin = _admin_login(staff, tier2)
    admin.goto("/admin/incidents/incident/add/")
    expect(admin.get_by_role("heading", name="Add incident")).to_be_visible()
    admin.locator("#id_service").select_option(label=service.name)
    admin.locator("#id_severity").select_option(label="Billing platform: P0 — Critical")
    admin.locator("#id_title").fill("Card payments failing")
    expect(admin.locator("#id_impact")).to_have_value("")  # staff choose: no red default
    admin.locator("#id_impact").select_option("major_outage")
    staff.screenshot("admin-incident-add")
    _save_and_continue(admin)

    incident = Incident.objects.get()
    expect(admin).to_have_url(re.compile(rf"/admin/incidents/incident/{incident.pk}/change/$"))
    assert incident.owner == tier2 and incident.opened_by == tier2
    assert incident.step == "detect" and incident.resolved_at is None
    assert incident.published_at is None  # a draft

    # --- A public update and an internal note ---------------------------------------------
    admin.locator("#id_public_update").fill(PUBLIC_UPDATE)
    admin.locator("#id_internal_note").fill(INTERNAL_NOTE)
    _save_and_continue(admin)
    updates = admin.locator(".inline-group", has_text="updates (public ones")
    expect(updates.locator(".incident-public")).to_have_count(1)
    expect(updates.locator(".incident-internal")).to_have_count(1)
    expect(updates).to_contain_text(PUBLIC_UPDATE)
    expect(updates).to_contain_text(INTERNAL_NOTE)
    expect(admin.locator("#id_public_update")).to_have_value("")  # saved, not left in the form
    updates.scroll_into_view_if_needed()
    staff.screenshot("admin-incident-change")

    # A draft's public update is held: the beat sweep records no email, and a visitor sees
    # nothing of the incident on /status/.
    from incidents.tasks import send_incident_updates

    send_incident_updates()
    assert not Notification.objects.filter(key__startswith="incident-update:").exists()
    visitor = open_browser()
    status = visitor.page
    status.goto("/status/")
    row = status.locator(f'.status-list [data-service="{service.slug}"]')
    expect(row).to_have_attribute("data-status", "operational")
    assert "Card payments failing" not in status.content()
    assert PUBLIC_UPDATE not in status.content()

    # --- The member checks the preview and publishes ------------------------------------------
    preview = admin.locator(".public-incident")
    expect(preview).to_contain_text("Card payments failing")
    expect(preview).to_contain_text("Major outage")
    expect(preview.locator(".incident-update-body")).to_have_text(PUBLIC_UPDATE)
    expect(preview).not_to_contain_text(INTERNAL_NOTE)
    preview.scroll_into_view_if_needed()
    staff.screenshot("admin-incident-preview")
    admin.locator("#id_publish").check()
    _save_and_continue(admin)
    incident.refresh_from_db()
    assert incident.published_by == tier2 and incident.published_at is not None
    expect(admin.locator("#id_publish")).to_have_count(0)

    # Its emails are recorded in the background: run the beat sweep as beat would (twice:
    # still once). Then the public update is in the outbox once for the service's customer;
    # the note nowhere.
    send_incident_updates()
    send_incident_updates()
    sent = Notification.objects.filter(key__startswith="incident-update:")
    assert [n.to for n in sent] == [customer.email]
    assert PUBLIC_UPDATE in sent[0].content()[1]
    assert not any(INTERNAL_NOTE in n.content()[1] for n in Notification.objects.all())

    # --- An anonymous visitor reads /status/ ------------------------------------------------
    status.reload()
    expect(row).to_have_attribute("data-state", "outage")
    expect(row).to_have_attribute("data-status", "major_outage")
    expect(row.locator(".badge")).to_have_text("Major outage")
    incidents = status.locator(f'[data-incidents-service="{service.slug}"]')
    expect(incidents).to_contain_text("Card payments failing")
    expect(incidents.locator(".incident-update-body")).to_have_text(PUBLIC_UPDATE)
    expect(status.get_by_text(INTERNAL_NOTE)).to_have_count(0)
    assert INTERNAL_NOTE not in status.content()
    visitor.screenshot("status-outage")

    # --- Staff resolve it -------------------------------------------------------------------
    admin.locator("#id_move_to").select_option("resolve")
    admin.locator("#id_step_note").fill("Release rolled back; payments succeed again.")
    _save_and_continue(admin)
    incident.refresh_from_db()
    assert incident.step == "resolve" and incident.resolved_at is not None
    steps = admin.locator(".inline-group", has_text="steps (who moved")
    expect(steps.locator("tbody tr.has_original")).to_have_count(2)  # detect, then resolve
    expect(steps).to_contain_text("Release rolled back")
    # The resolved incident now has a post-mortem due (48 h in the plan).
    expect(admin.get_by_role("link", name="Write the post-mortem")).to_be_visible()
    steps.scroll_into_view_if_needed()
    staff.screenshot("admin-incident-resolved")

    status.reload()
    expect(row).to_have_attribute("data-state", "operational")
    expect(row.locator(".badge")).to_have_text("Operational")
    expect(status.locator(".status-list").get_by_text("Major outage", exact=True)).to_have_count(0)
    # Resolved within the last day: still listed, marked resolved, with its public update.
    expect(incidents.locator(".badge")).to_contain_text("Resolved")
    expect(incidents).to_contain_text(PUBLIC_UPDATE)
    assert INTERNAL_NOTE not in status.content()
    visitor.screenshot("status-resolved")

    for person in (staff, visitor):
        assert person.broken_assets == []


# --- 2. time on a ticket → the customer's dashboard -----------------------------------------------


def test_time_logged_on_ticket_shows_on_customer_dashboard(open_browser, live_server):
    service = factories.ServiceFactory(slug="shop", name="Web shop")
    priorities = _priorities(service)
    superuser = factories.StaffFactory(email="boss@support.example", is_superuser=True)
    contract = SupportContractFactory(service=service, name="Basic", hours_per_month=20)
    organization = contract_services.organization_create(
        name="Lovelace & Co", service=service, by=superuser
    )
    customer = factories.CustomerFactory(email="ada@lovelace.example", services=[service])
    contract_services.organization_add_member(
        organization=organization, user=customer, by=superuser
    )
    contract_services.organization_set_contract(
        organization=organization,
        contract=contract,
        month=timezone.now().date().replace(day=1),
        by=superuser,
    )
    ticket = factories.TicketFactory(
        service=service,
        customer=customer,
        priority=priorities["P1"],
        subject="Checkout button does nothing",
    )
    tier1 = factories.StaffFactory(email="tom@support.example", first_name="Tom", tier=1)

    # --- Staff log 90 minutes from the ticket's page --------------------------------------
    staff = open_browser()
    admin = _admin_login(staff, tier1)
    admin.goto(f"/admin/tickets/ticket/{ticket.pk}/change/")
    log_time = admin.locator(".inline-group", has=admin.get_by_role("heading", name="Log time"))
    expect(log_time).to_be_visible()
    log_time.locator("input[name$='-0-minutes']").fill("90")
    log_time.locator("input[name$='-0-note']").fill("Traced the broken checkout script")
    log_time.scroll_into_view_if_needed()
    staff.screenshot("admin-ticket-log-time")
    _save_and_continue(admin)

    entry = TimeEntry.objects.get()
    assert (entry.ticket, entry.staff, entry.minutes) == (ticket, tier1, 90)
    assert entry.organization == organization  # billed to the customer's organisation
    logged = admin.locator(".inline-group", has=admin.get_by_role("heading", name="Time logged"))
    expect(logged.locator("tbody tr.has_original")).to_have_count(1)
    expect(logged).to_contain_text("90 min (1.5 h)")
    logged.scroll_into_view_if_needed()
    staff.screenshot("admin-ticket-time-logged")

    # Staff read the month's use in the organisations list too.
    admin.goto("/admin/contracts/organization/")
    org_row = admin.locator("#result_list tbody tr", has_text="Lovelace & Co")
    expect(org_row).to_contain_text("1.5 of 20 h (7 %)")
    staff.screenshot("admin-organization-hours")

    # --- The customer reads this month's hours on their dashboard ---------------------------
    person = open_browser()
    page = person.page
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(customer.email)
    page.locator("#id_password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your support")).to_be_visible()
    usage = page.get_by_test_id("support-usage")
    expect(usage).to_contain_text("Basic contract")
    # 90 min of 20 h: 1.5 h, 7 % (rounded down), 18.5 h left.
    expect(usage).to_contain_text("Support hours this month: 1.5 of 20 h (7 %)")
    expect(usage).to_contain_text("18.5 h left")
    expect(usage.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "7")
    usage.scroll_into_view_if_needed()
    person.screenshot("customer-dashboard-hours")

    for someone in (staff, person):
        assert someone.broken_assets == []


# --- 3. success metrics and uptime report ------------------------------------------------------

# Last month's availability with 30 minutes of outage, by the month's length: 1 − 30 ÷ minutes,
# three decimals rounded down; the 99.9 % budget is 0.1 % of the month, less the 30 minutes.
AVAILABILITY = {28: "99.925", 29: "99.928", 30: "99.93", 31: "99.932"}
BUDGET_LEFT = {28: "10.32", 29: "11.76", 30: "13.2", 31: "14.64"}


def _at(first, day, hour, minute=0):
    return datetime(first.year, first.month, day, hour, minute, tzinfo=UTC)


def test_metrics_dashboard_uptime_report_and_csv(open_browser, live_server):
    service = factories.ServiceFactory(slug="roofing", name="Roofing portal")
    priorities = _priorities(service, p0_uptime="99.99")
    # The roofing plan's targets: MTTR 4 h, first response 1 h, 75 % resolved, CSAT 4.
    ServiceTargetsFactory(service=service, uptime="99.9")
    first, days = _last_month()
    ticket = dict(service=service, customer=factories.CustomerFactory(services=[service]))
    factories.TicketFactory(
        **ticket,
        priority=priorities["P0"],
        created_at=_at(first, 6, 9),
        first_response_at=_at(first, 6, 9, 30),  # 30 min
        resolved_at=_at(first, 6, 12),  # 3 h
        response_met=True,
        resolution_met=True,
        status=Ticket.Status.RESOLVED,
        rating=5,
    )
    factories.TicketFactory(
        **ticket,
        priority=priorities["P1"],
        created_at=_at(first, 7, 10),
        first_response_at=_at(first, 7, 11),  # 60 min
        resolved_at=_at(first, 7, 16),  # 6 h
        response_met=True,
        resolution_met=True,
        status=Ticket.Status.RESOLVED,
        rating=3,
    )
    factories.TicketFactory(
        **ticket, priority=priorities["P1"], created_at=_at(first, 20, 10), response_met=False
    )
    # One P0 outage of 30 minutes, published (only published incidents are downtime), resolved.
    Incident.objects.create(
        service=service,
        severity=priorities["P0"],
        title="Roof quotes down",
        outage=True,
        step="review",
        started_at=_at(first, 14, 10),
        published_at=_at(first, 14, 15),
        resolved_at=_at(first, 14, 10, 30),
    )
    tier3 = factories.StaffFactory(email="eve@support.example", tier=3)

    # --- The success-metrics dashboard, last month ------------------------------------------
    staff = open_browser()
    admin = _admin_login(staff, tier3)
    admin.goto("/admin/metrics/successmetrics/")
    expect(admin.locator("#content h1")).to_have_text("Success metrics")
    admin.locator("a[rel=prev]").click()
    label = f"{first:%B %Y}"
    expect(admin.locator(".metrics-nav strong")).to_have_text(f"Roofing portal — {label}")

    def figure(section, key, scope=""):
        return admin.locator(f'[data-figure="{section}|{scope}|{key}"]')

    def result(key):
        return admin.locator(f'#metrics-targets tr[data-metric="{key}"]')

    # Hand-checked: 3 opened, 2 resolved; first responses 30 and 60 min → 45 min; P0 resolved
    # in 3 h; 2 of 3 resolved → 66.7 % (target 75 %: missed); ratings 5 and 3 → 4.00.
    expect(figure("volume", "opened")).to_have_text("3")
    expect(figure("volume", "resolved")).to_have_text("2")
    expect(figure("volume", "mttr_all")).to_have_text("4 h 30 min")
    expect(figure("volume", "outages")).to_have_text("1")
    expect(figure("targets", "first_response_avg")).to_contain_text("45 min")
    expect(result("first_response_avg")).to_have_attribute("data-result", "met")
    expect(figure("targets", "mttr")).to_contain_text("3 h")
    expect(result("mttr")).to_have_attribute("data-result", "met")
    expect(figure("targets", "resolution_rate")).to_contain_text("66.7 %")
    expect(result("resolution_rate")).to_have_attribute("data-result", "missed")
    expect(result("resolution_rate")).to_contain_text("✘ missed")
    expect(figure("targets", "csat")).to_contain_text("4.00 / 5")
    expect(result("csat")).to_have_attribute("data-result", "met")
    expect(figure("priority", "opened", "P1 — High")).to_have_text("2")
    compliance = "Response and resolution targets met, per priority, in percent"
    expect(admin.get_by_role("img", name=compliance)).to_be_visible()
    weekly = admin.get_by_role("img", name="Tickets opened and resolved per week")
    expect(weekly).to_be_visible()
    expect(weekly.locator("rect.opened")).not_to_have_count(0)
    staff.screenshot("admin-metrics-dashboard")

    # The CSV export carries the same figures.
    export = admin.get_by_role("link", name="Export CSV")
    response = admin.request.get(export.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        f'filename="metrics-roofing-{first:%Y%m%d}-{first:%Y%m}{days:02d}.csv"'
        in response.headers["content-disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(response.text())))
    by_metric = {(r["section"], r["scope"], r["metric"]): r for r in rows}
    assert by_metric[("volume", "", "opened")]["number"] == "3"
    assert by_metric[("targets", "", "resolution_rate")]["value"] == "66.7 %"
    assert by_metric[("targets", "", "resolution_rate")]["result"] == "missed"
    assert by_metric[("targets", "", "csat")]["value"] == "4.00 / 5"
    assert {r["period"] for r in rows} == {label}

    # --- The uptime report, last month ------------------------------------------------------
    admin.goto("/admin/uptime/uptimereport/")
    admin.get_by_role("link", name="‹ previous month").click()
    expect(admin.locator("#content h1")).to_have_text(f"Monthly uptime — {label}")
    report = admin.locator(f'table.uptime-report[data-service="{service.slug}"]')
    expect(report.locator("caption")).to_contain_text("(1 outage incident)")
    overall = report.locator('tr[data-scope="Overall"]')
    cells = overall.locator("td")
    expect(cells.nth(0)).to_have_text(AVAILABILITY[days])
    expect(cells.nth(1)).to_have_text("99.9")
    expect(cells.nth(2)).to_have_text("30")  # downtime, minutes
    expect(cells.nth(5)).to_have_text(BUDGET_LEFT[days])
    expect(overall).to_have_attribute("data-state", "met")  # the month is over
    # P0's 99.99 % allows 0.01 % of the month (4.03–4.46 min): 30 minutes blew it.
    p0 = report.locator('tr[data-scope="P0 — Critical"]')
    expect(p0).to_have_attribute("data-state", "missed")
    expect(p0).to_contain_text("✘ missed")
    staff.screenshot("admin-uptime-report")

    assert staff.broken_assets == []
