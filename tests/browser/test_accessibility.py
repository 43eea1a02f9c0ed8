"""Accessibility: axe-core finds no serious or critical violation on any page people use.

axe-core is the copy pinned with axe-playwright-python (requirements-dev.txt), injected into each
page by Playwright after it loaded (through the DevTools protocol, so the page's own
Content-Security-Policy stays as strict as it is in production). It checks WCAG 2.x A and AA
rules: contrast (4.5:1 for text), labels of form fields, names of links and buttons, landmarks,
the page's language, ARIA use.

Every customer page (signed out and signed in), the public status pages and the admin pages
staff work in are visited, with rows in them so that tables, badges and forms are drawn. All
findings are collected before asserting, so one run lists everything to fix.
``serialized_rollback`` restores the rows the migrations wrote (tier groups and permissions).
"""

from datetime import time, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone

from incidents.models import Impact
from maintenance.emails import unsubscribe_token
from maintenance.models import MaintenancePolicy, MaintenanceWindow, Subscription
from tests import factories
from tests.incidents.factories import IncidentFactory, IncidentPolicyFactory, IncidentUpdateFactory
from tickets.services import customer_add_service, ticket_reply

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BLOCKING = {"serious", "critical"}


def _violations(page):
    """The page's serious and critical violations, one line each with where they are."""
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        found.append(
            f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} "
            f"— {len(violation['nodes'])} element(s): {' | '.join(targets)}"
        )
    return found


def _check(person, paths, findings):
    for path in paths:
        response = person.page.goto(path)
        if response.status != 200:
            findings.append(f"{path}: answered {response.status}")
            continue
        findings.extend(_violations(person.page))


def _log_in(person, user, path="/accounts/login/"):
    page = person.page
    page.goto(path)
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.fixture
def portal(db):
    """A service with priorities, maintenance, an open and a resolved incident, a customer with
    tickets (one answered), and a superuser."""
    service = factories.ServiceFactory(slug="shop", name="Web shop")
    priority = factories.PriorityFactory(
        service=service, code="P1", name="High", response="1h", resolution="8h"
    )
    factories.PriorityFactory(
        service=service, code="P2", name="Normal", response="4h", resolution="3d", position=1
    )
    IncidentPolicyFactory(service=service)
    MaintenancePolicy.objects.create(service=service, notices=["48h"], channels=["email"])
    MaintenanceWindow.objects.create(
        service=service,
        name="Database upgrade",
        rrule="FREQ=WEEKLY;BYDAY=SU",
        start=time(2, 0),
        duration="2h",
        timezone="Europe/Berlin",
        impact="Checkout unavailable",
    )
    superuser = factories.StaffFactory(email="boss@support.example", is_superuser=True)
    customer = factories.CustomerFactory(email="ada@lovelace.example", first_name="Ada")
    customer_add_service(customer=customer, service=service)
    ticket = factories.TicketFactory(
        service=service, customer=customer, priority=priority, subject="Checkout is slow"
    )
    ticket_reply(ticket=ticket, author=superuser, body="We are looking at the payment gateway.")
    factories.TicketFactory(
        service=service, customer=customer, priority=priority, subject="Invoice PDF missing"
    )
    now = timezone.now()
    incident = IncidentFactory(
        service=service,
        title="Payments failing",
        impact=Impact.PARTIAL_OUTAGE,
        owner=superuser,
        started_at=now - timedelta(minutes=30),
    )
    IncidentUpdateFactory(incident=incident, body="We are rolling back today's release.")
    resolved = IncidentFactory(
        service=service,
        title="Slow search",
        impact=Impact.DEGRADED_PERFORMANCE,
        owner=superuser,
        started_at=now - timedelta(days=3),
        resolved_at=now - timedelta(days=3) + timedelta(hours=1),
        step="resolve",
    )
    IncidentUpdateFactory(incident=resolved, body="Search is fast again.")
    watcher = Subscription.objects.create(
        service=service, email="watcher@example.com", confirmed_at=now
    )
    return {
        "manage_link": reverse("maintenance:unsubscribe", args=[unsubscribe_token(watcher.token)]),
        "service": service,
        "customer": customer,
        "superuser": superuser,
        "ticket": ticket,
        "incident": incident,
        "resolved": resolved,
    }


def test_no_serious_or_critical_violations(open_browser, portal):
    service, ticket = portal["service"], portal["ticket"]
    findings = []

    # --- a visitor, signed out ------------------------------------------------------------------
    visitor = open_browser()
    _check(
        visitor,
        [
            "/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password_reset/",
            "/maintenance/",
            "/status/",
            "/status/history/",
            f"/status/incidents/{portal['incident'].pk}/",
            f"/status/incidents/{portal['resolved'].pk}/",
            f"/support/{service.slug}/",
            portal["manage_link"],
        ],
        findings,
    )

    # --- the customer -----------------------------------------------------------------------------
    customer = open_browser()
    _log_in(customer, portal["customer"])
    _check(
        customer,
        [
            "/",
            "/tickets/",
            "/tickets/new/",
            ticket.get_absolute_url(),
            "/maintenance/",
            "/status/",
            "/accounts/profile/",
            "/maintenance/subscriptions/",
            "/accounts/password_change/",
            f"/support/{service.slug}/",
        ],
        findings,
    )

    # --- staff in the admin -----------------------------------------------------------------------
    staff = open_browser()
    _check(staff, ["/admin/login/"], findings)
    _log_in(staff, portal["superuser"], "/admin/login/")
    _check(
        staff,
        [
            "/admin/",
            "/admin/tickets/ticket/",
            f"/admin/tickets/ticket/{ticket.pk}/change/",
            "/admin/incidents/incident/",
            f"/admin/incidents/incident/{portal['incident'].pk}/change/",
            "/admin/incidents/incident/add/",
            "/admin/maintenance/maintenancewindow/",
            f"/admin/sla/service/{service.pk}/change/",
            "/admin/metrics/successmetrics/",
        ],
        findings,
    )

    assert findings == [], "\n".join(findings)
    for person in (visitor, customer, staff):
        assert person.broken_assets == []
