"""The whole support journey in a real browser, against the live server.

A customer signs up and verifies their address through the emailed link, files a ticket with an
attachment and finds it listed; a Tier 1 staff member logs into the admin, sees only the tickets
of their tier and posts a public reply; the customer reads it; another customer gets 404 on the
ticket and its attachment. Each page visited is screenshotted (into ``docs/screenshots/``
with ``UPDATE_SCREENSHOTS=1``).

``serialized_rollback`` restores the rows the migrations wrote (the tier groups and their
permissions), which a transactional test's flush would otherwise leave out.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from notifications.models import Notification
from tests import factories
from tickets.models import Message, Ticket
from tickets.services import customer_add_service

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CUSTOMER_EMAIL = "ada@customer.example"
CUSTOMER_PASSWORD = "Analytical-Engine-1843"
ATTACHMENT_TEXT = "2025-11-24 10:02:11 ERROR export failed: timeout after 30s\n"
REPLY = "Thanks Ada, we found the stuck export job and restarted it. Please try again."

PRIORITIES = [
    ("P0", "Critical", "Service down for everyone, no workaround.", "15m", "4h"),
    ("P1", "High", "Core feature broken, workaround available.", "1h", "8h"),
    ("P2", "Normal", "Minor feature broken or degraded.", "4h", "3d"),
    ("P3", "Low", "Questions and cosmetic issues.", "1d", "10d"),
]


@pytest.fixture
def plan(db):
    """A service with its four priorities, as staff would have set it up from the plan."""
    service = factories.ServiceFactory(slug="billing", name="Billing platform")
    priorities = {
        code: factories.PriorityFactory(
            service=service,
            code=code,
            name=name,
            description=description,
            response=response,
            resolution=resolution,
            position=position,
        )
        for position, (code, name, description, response, resolution) in enumerate(PRIORITIES)
    }
    return service, priorities


def _verification_link(email):
    notification = Notification.objects.get(key__startswith="accounts:", to=email)
    match = re.search(r"https?://\S+/accounts/verify/\S+/", notification.body_text)
    assert match, notification.body_text
    return match[0]


def test_customer_ticket_staff_reply_and_isolation(
    open_browser, live_server, settings, plan, tmp_path
):
    settings.SITE_URL = live_server.url  # links in emails point at the live server
    service, priorities = plan

    # --- 1. The customer signs up and follows the link from the outbox --------------------------
    customer = open_browser()
    page = customer.page
    page.goto("/accounts/signup/")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.locator("#id_email").fill(CUSTOMER_EMAIL)
    page.locator("#id_password").fill(CUSTOMER_PASSWORD)
    page.locator("#id_password_confirm").fill(CUSTOMER_PASSWORD)
    customer.screenshot("signup")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/accounts/signup/done/$"))
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.locator("main")).to_contain_text(CUSTOMER_EMAIL)
    customer.screenshot("signup-done")
    user = get_user_model().objects.get(email=CUSTOMER_EMAIL)
    assert not user.is_active  # nothing works before the address is confirmed

    page.goto(_verification_link(CUSTOMER_EMAIL))
    # Opening the link changes nothing (mail scanners open links too): the button confirms.
    page.get_by_role("button", name="Confirm my address").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    expect(page.get_by_role("heading", name="Your support")).to_be_visible()
    expect(page.get_by_text("What happens next")).to_be_visible()
    customer.screenshot("verify-done")

    # Staff link the new account to the service of the customer's plan.
    user.refresh_from_db()
    assert user.is_active
    customer_add_service(customer=user, service=service)

    # --- 2. The customer files a ticket with an attachment --------------------------------------
    log = tmp_path / "export-error.txt"
    log.write_text(ATTACHMENT_TEXT)
    page.reload()
    expect(page.get_by_text(service.name)).to_be_visible()
    page.get_by_role("link", name="New ticket").first.click()
    expect(page.get_by_role("heading", name="Submit a ticket")).to_be_visible()
    expect(page.locator("#id_service")).to_have_value(str(service.pk))  # the only service
    page.locator("#id_priority").select_option(str(priorities["P1"].pk))
    page.locator("#id_subject").fill("Invoice export fails with a timeout")
    page.locator("#id_description").fill(
        "Exporting November's invoices stops after 30 seconds.\nLog attached."
    )
    page.locator("#id_attachments").set_input_files(str(log))
    customer.screenshot("ticket-new")
    page.get_by_role("button", name="Submit ticket").click()

    expect(page.get_by_role("heading", name="we received your ticket")).to_be_visible()
    ticket = Ticket.objects.get(customer=user)
    expect(page.get_by_test_id("ticket-number")).to_have_text(ticket.number)
    expect(page.locator("main")).to_contain_text("priority P1 — High")
    customer.screenshot("ticket-submitted")
    assert ticket.tier == 1 and ticket.attachments.count() == 1

    page.get_by_role("link", name="All my tickets").click()
    expect(page.get_by_role("heading", name="My tickets")).to_be_visible()
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ticket.number)
    expect(row).to_contain_text("Invoice export fails with a timeout")
    expect(row).to_contain_text("P1 — High")
    customer.screenshot("ticket-list")

    page.get_by_role("link", name="Home").click()
    expect(page.get_by_test_id("active-count")).to_have_text("1")
    expect(page.locator(".list-group")).to_contain_text("Invoice export fails with a timeout")
    customer.screenshot("customer-dashboard")

    # The customer's own attachment downloads, byte for byte.
    page.goto(ticket.get_absolute_url())
    attachment_link = page.get_by_role("link", name="export-error.txt")
    expect(attachment_link).to_be_visible()
    attachment_url = attachment_link.get_attribute("href")
    download = page.request.get(attachment_url)
    assert download.status == 200
    assert download.text() == ATTACHMENT_TEXT

    # --- 3. A Tier 1 staff member replies in the admin ------------------------------------------
    other_user = factories.CustomerFactory(email="grace@other.example", services=[service])
    escalated = factories.TicketFactory(
        customer=other_user,
        service=service,
        priority=priorities["P0"],
        subject="Escalated: ledger totals disagree",
        tier=2,
    )
    staff_user = factories.StaffFactory(email="tom@support.example", first_name="Tom", tier=1)

    staff = open_browser()
    admin = staff.page
    admin.goto("/admin/")
    expect(admin).to_have_url(re.compile(r"/admin/login/"))
    admin.locator("#id_username").fill(staff_user.email)
    admin.locator("#id_password").fill(factories.PASSWORD)
    staff.screenshot("admin-login")
    admin.get_by_role("button", name="Log in").click()
    expect(admin.get_by_text("Work the queues")).to_be_visible()

    admin.get_by_role("rowheader", name="Tickets", exact=True).get_by_role("link").click()
    expect(admin).to_have_url(re.compile(r"/admin/tickets/ticket/$"))
    # The queue has no navigation sidebar: its columns take the width (tickets/admin/ticket.py).
    expect(admin.locator("#nav-sidebar")).to_have_count(0)
    admin.evaluate("window.scrollTo(0, 0)")
    rows = admin.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Invoice export fails with a timeout")
    # The Tier 2 ticket does not exist for a Tier 1 member: not listed, and its page is refused.
    expect(admin.get_by_text(escalated.subject)).to_have_count(0)
    staff.screenshot("admin-ticket-list")

    admin.get_by_role("link", name=ticket.number, exact=True).click()
    expect(admin).to_have_url(re.compile(rf"/admin/tickets/ticket/{ticket.pk}/change/$"))
    conversation = admin.locator(".ticket-conversation")
    expect(conversation).to_contain_text("Exporting November's invoices stops after 30 seconds.")
    expect(conversation.get_by_role("link", name="export-error.txt")).to_be_visible()
    admin.get_by_label("Public reply").fill(REPLY)
    staff.screenshot("admin-ticket-change")
    admin.get_by_role("button", name="Save and continue editing").click()

    expect(admin.locator(".messagelist")).to_contain_text("was changed successfully")
    staff_entry = admin.locator(".ticket-conversation .entry.staff")
    expect(staff_entry).to_have_count(1)
    expect(staff_entry).to_contain_text(REPLY)
    expect(admin.get_by_label("Public reply")).to_have_value("")  # saved, not left in the form
    staff.screenshot("admin-ticket-saved")
    reply = Message.objects.get(ticket=ticket, author=staff_user)
    assert reply.body == REPLY and not reply.internal

    admin.goto(f"/admin/tickets/ticket/{escalated.pk}/change/")
    expect(admin.locator(".messagelist")).to_contain_text("doesn’t exist")
    assert f"/tickets/ticket/{escalated.pk}/" not in admin.url

    # --- 4. The customer reads the reply --------------------------------------------------------
    page.goto(ticket.get_absolute_url())
    expect(page.get_by_role("heading", name=ticket.subject)).to_be_visible()
    support_message = page.locator(".message.from-support")
    expect(support_message).to_have_count(1)
    expect(support_message).to_contain_text(REPLY)
    expect(support_message).to_contain_text("Tom · support team")
    support_message.scroll_into_view_if_needed()
    customer.screenshot("ticket-detail-with-reply")

    # --- 5. Another customer gets 404 on the ticket and on its attachment -----------------------
    other = open_browser()
    stranger = other.page
    stranger.goto("/accounts/login/")
    stranger.locator("#id_username").fill(other_user.email)
    stranger.locator("#id_password").fill(factories.PASSWORD)
    stranger.get_by_role("button", name="Log in").click()
    expect(stranger.get_by_role("heading", name="Your support")).to_be_visible()

    response = stranger.goto(ticket.get_absolute_url())
    assert response.status == 404
    expect(stranger.get_by_text(ticket.subject)).to_have_count(0)
    other.screenshot("other-customer-404")
    response = stranger.goto(attachment_url)
    assert response.status == 404
    assert ATTACHMENT_TEXT not in response.text()

    for person in (customer, staff, other):
        assert person.broken_assets == []
