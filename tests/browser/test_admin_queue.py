"""A Tier 1 agent's day in the admin, in a real browser at 1280 px.

They sign in on the portal and land in the admin with Tickets first; the queue fits the
screen, most urgent first, with one SLA column; the "Breached" view is one click; on their
ticket a canned reply fills the reply box (a static script under the strict CSP), they attach
a file and escalate; back on the list they are told where it went and can still read it, which
says who has it now. Screenshots go to ``docs/screenshots/`` with ``UPDATE_SCREENSHOTS=1``
(``admin-queue``, ``admin-ticket-canned``, ``admin-ticket-moved-on``).
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories
from tickets.models import CannedReply, Message, Ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WIDTH = 1280
HOUR = timedelta(hours=1)


@pytest.fixture
def queue(db):
    """A service with tiers and priorities, and tickets in every SLA state."""
    service = factories.ServiceFactory(slug="billing", name="Billing platform")
    factories.TierFactory(service=service, level=1, name="Helpdesk")
    factories.TierFactory(service=service, level=2, name="Engineers")
    p1 = factories.PriorityFactory(service=service, code="P1", name="High", position=1)
    p3 = factories.PriorityFactory(service=service, code="P3", name="Low", position=3)
    agent = factories.StaffFactory(email="tom@support.example", first_name="Tom", tier=1)
    factories.tier_group(2)
    now = timezone.now()
    customer = factories.CustomerFactory(
        email="ada@customer.example", first_name="Ada", last_name="Lovelace", services=[service]
    )

    def ticket(subject, priority=p1, **kwargs):
        return factories.TicketFactory(
            service=service, customer=customer, priority=priority, subject=subject, **kwargs
        )

    tickets = {
        "breached": ticket(
            "Invoices stopped sending after the overnight deploy",
            response_due_at=now - 2 * HOUR,
            next_due_at=now - 2 * HOUR,
        ),
        "mine": ticket(
            "Payment webhook retries pile up and the reconciliation report times out for the "
            "largest merchants every Monday morning",
            assignee=agent,
            response_due_at=now + HOUR / 2,
            response_warn_at=now - HOUR / 4,
            next_due_at=now + HOUR / 2,
        ),
        "later": ticket(
            "Typo on the receipt footer",
            priority=p3,
            response_due_at=now + 20 * HOUR,
            next_due_at=now + 20 * HOUR,
        ),
        "waiting": ticket(
            "Which VAT number should appear on credit notes?",
            priority=p3,
            status=Ticket.Status.WAITING_ON_CUSTOMER,
            paused_at=now - HOUR,
            response_due_at=None,
            resolution_due_at=now + 30 * HOUR,
        ),
    }
    CannedReply.objects.create(
        service=service,
        title="Looking into it",
        body="Hello {customer_name}, we are on {ticket_number}. We answer by {response_due}.",
    )
    return agent, tickets


def test_a_tier1_agent_works_the_queue(open_browser, queue, tmp_path):
    agent, tickets = queue
    staff = open_browser()
    admin = staff.page
    admin.set_viewport_size({"width": WIDTH, "height": 800})
    csp_errors = []
    admin.on(
        "console",
        lambda message: (
            csp_errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    # --- signs in on the portal, lands in the admin, Tickets first -----------------------------
    admin.goto("/accounts/login/")
    admin.locator("#id_username").fill(agent.email)
    admin.locator("#id_password").fill(factories.PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    expect(admin).to_have_url(re.compile(r"/admin/$"))
    first_section = admin.locator("#content-main .module caption").first
    expect(first_section).to_have_text("Tickets")

    # --- the queue fits 1280 px, most urgent first ---------------------------------------------
    admin.locator("#content-main #tickets-ticket").get_by_role("link").click()
    expect(admin).to_have_url(re.compile(r"/admin/tickets/ticket/$"))
    rows = admin.locator("#result_list tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text(tickets["breached"].subject)
    expect(rows.nth(0).locator(".sla")).to_contain_text("breached 2 h ago")
    expect(rows.nth(1).locator(".sla")).to_contain_text("at risk")
    # Neither the page nor the list's own scroll box scrolls sideways: every column shows.
    overflow = admin.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
    results = admin.locator("#changelist .results")
    hidden = results.evaluate("e => e.scrollWidth - e.clientWidth")
    assert hidden <= 0, f"{hidden} px of the columns are scrolled out of sight"
    expect(rows.nth(0).locator("td.field-assignee_display")).to_be_in_viewport()
    subject = rows.nth(1).locator(".ticket-subject")
    assert subject.evaluate("e => e.scrollWidth > e.clientWidth")  # cut by the ellipsis
    staff.screenshot("admin-queue")

    # --- one click to a saved view ---------------------------------------------------------------
    admin.locator(".ticket-views").get_by_role("link", name="Breached").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(tickets["breached"].subject)
    admin.locator(".ticket-views").get_by_role("link", name="My open tickets").click()
    expect(rows).to_have_count(1)

    # --- a canned reply, a file, an escalation --------------------------------------------------
    mine = tickets["mine"]
    admin.get_by_role("link", name=mine.number, exact=True).click()
    admin.get_by_label("Insert a canned reply").select_option(label="Looking into it")
    box = admin.get_by_label("Public reply")
    expect(box).to_have_value(re.compile(rf"^Hello Ada Lovelace, we are on {mine.number}\. "))
    staff.screenshot("admin-ticket-canned")
    log = tmp_path / "trace.txt"
    log.write_text("webhook retry trace\n")
    admin.get_by_label("Attach files").set_input_files(str(log))
    admin.get_by_label("Escalate to the next tier").check()
    admin.get_by_label("Reason for escalating").fill("Needs an engineer with database access")
    admin.get_by_role("button", name="Save and continue editing").click()

    expect(admin).to_have_url(re.compile(r"/admin/tickets/ticket/$"))
    message = admin.locator(".messagelist")
    expect(message).to_contain_text(f"{mine.number} now belongs to a higher tier: Tier 2")
    reply = Message.objects.get(ticket=mine, author=agent)
    assert [a.name for a in reply.attachments.all()] == ["trace.txt"]

    # --- still readable, saying where it went --------------------------------------------------
    message.get_by_role("link", name="read it").click()
    notice = admin.locator(".ticket-moved-on")
    expect(notice).to_contain_text("it is now with Tier 2, not assigned to anyone yet")
    expect(notice).to_contain_text("Needs an engineer with database access")
    expect(admin.get_by_label("Public reply")).to_have_count(0)
    staff.screenshot("admin-ticket-moved-on")

    assert not csp_errors, csp_errors
    assert not staff.broken_assets, staff.broken_assets
