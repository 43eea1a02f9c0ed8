"""The pages work in a real browser under the Content-Security-Policy, which reports nothing.

Chromium enforces the policy the server sends and logs every refusal ("Refused to execute
inline script / apply inline style … because it violates the following Content Security Policy
directive"). A customer and a superuser walk the pages, using the bits that need script (the
maintenance calendar's service picker, the admin's autocomplete and navigation) and posting
forms; not one refusal may be logged. ``serialized_rollback`` restores the rows the migrations
wrote (tier groups and their permissions).
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contracts import services as contract_services
from tests import factories
from tests.contracts.factories import SupportContractFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _watch_csp(person, refusals):
    """Add the console's CSP refusals (and any page error) of this person's page to ``refusals``."""

    def on_console(message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            refusals.append(f"{person.page.url}: {message.text}")

    person.page.on("console", on_console)
    person.page.on("pageerror", lambda error: refusals.append(f"{person.page.url}: {error}"))


def _log_in(person, user, path):
    page = person.page
    page.goto(path)
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


def test_customer_and_admin_pages_work_under_the_policy(open_browser, live_server):
    service = factories.ServiceFactory(slug="shop", name="Web shop")
    other = factories.ServiceFactory(slug="mail", name="Mail relay")
    priority = factories.PriorityFactory(service=service, code="P1", name="High")
    superuser = factories.StaffFactory(email="boss@support.example", is_superuser=True)
    customer = factories.CustomerFactory(email="ada@lovelace.example", services=[service])
    organization = contract_services.organization_create(
        name="Lovelace & Co", service=service, by=superuser
    )
    contract_services.organization_add_member(
        organization=organization, user=customer, by=superuser
    )
    contract_services.organization_set_contract(
        organization=organization,
        contract=SupportContractFactory(service=service, hours_per_month=20),
        month=timezone.now().date().replace(day=1),
        by=superuser,
    )
    ticket = factories.TicketFactory(
        service=service, customer=customer, priority=priority, subject="Checkout is slow"
    )

    # --- the customer ---------------------------------------------------------------------------
    refusals = []
    person = open_browser()
    _watch_csp(person, refusals)
    page = _log_in(person, customer, "/accounts/login/")
    expect(page.get_by_role("heading", name="Your support")).to_be_visible()
    expect(page.get_by_test_id("support-usage").get_by_role("progressbar")).to_be_visible()
    page.goto(ticket.get_absolute_url())
    page.locator("textarea[name=body]").fill("It is slow again this morning.")
    page.get_by_role("button", name=re.compile("reply", re.IGNORECASE)).click()
    expect(page.get_by_text("Your reply has been added.")).to_be_visible()
    page.goto("/maintenance/")
    page.locator("#service-filter").select_option(other.slug)  # submits without a button
    expect(page).to_have_url(re.compile(rf"service={other.slug}"))
    page.goto("/status/")
    expect(page.get_by_text("Web shop").first).to_be_visible()

    # --- a superuser in the admin -----------------------------------------------------------
    staff = open_browser()
    _watch_csp(staff, refusals)
    admin = _log_in(staff, superuser, "/admin/login/")
    expect(admin.locator("#user-tools")).to_be_visible()
    admin.goto(f"/admin/tickets/ticket/{ticket.pk}/change/")
    expect(admin.get_by_text("It is slow again this morning.")).to_be_visible()
    admin.goto("/admin/incidents/incident/add/")
    admin.locator(".field-tickets .select2-selection").click()  # the autocomplete opens
    expect(admin.locator(".select2-search__field")).to_be_visible()
    admin.keyboard.press("Escape")
    for path in (
        "/admin/tickets/ticket/",
        "/admin/uptime/uptimereport/",
        "/admin/contracts/organization/usage/",
        "/admin/metrics/successmetrics/",
    ):
        response = admin.goto(path)
        assert response.status == 200, path
        assert "'self'" in response.headers["content-security-policy"], path

    assert refusals == []
    for someone in (person, staff):
        assert someone.broken_assets == []
