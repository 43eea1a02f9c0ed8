"""An incident opened from a ticket starts with nothing public taken from the ticket.

An incident's title (and every public update) goes to ``/status/``, ``status.json`` and every
subscriber; a ticket's subject and description are one customer's private words. The ticket is
linked, the title starts neutral, and the page can be saved as it opens without disclosing them.
"""

import html
import re

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

SUBJECT = "Invoices of ACME Corp leak to Globex (ref 4711)"
DESCRIPTION = "Our CFO jane.doe@acme.example sees Globex's payroll export"


@pytest.fixture
def logged_in(clock, client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def ticket(service, severity):
    return factories.TicketFactory(
        service=service, priority=severity, subject=SUBJECT, description=DESCRIPTION
    )


def assert_nothing_public_from(page, ticket, service):
    form = page.context["adminform"].form
    # Every field but the (staff-only) ticket link, as the page renders it.
    public = {name: str(form[name]) for name in form.fields if name != "tickets"}
    assert public, "the add form has fields"
    for name, rendered in public.items():
        text = html.unescape(rendered)
        for private in (SUBJECT, DESCRIPTION, "ACME", "Globex"):
            assert private not in text, f"{name} is prefilled with the ticket's {private!r}"
    assert form.initial["title"] == f"{service.name}: degraded service"
    assert not form.initial.get("public_update")
    assert list(map(int, form.initial["tickets"])) == [ticket.pk]


def test_the_ticket_pages_link_opens_an_incident_with_a_neutral_title(
    logged_in, ticket, service, clock
):
    """ "Open an incident from this ticket" links the ticket and names only the service."""
    ticket_page = logged_in.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    link = re.search(r'class="open-incident" href="([^"]+)"', ticket_page.content.decode())
    page = logged_in.get(html.unescape(link.group(1)))
    assert page.status_code == 200
    assert_nothing_public_from(page, ticket, service)


def test_the_ticket_lists_action_opens_an_incident_with_a_neutral_title(
    logged_in, ticket, service, clock
):
    """The list's "Open an incident for these tickets" action prefills the same way."""
    response = logged_in.post(
        reverse("admin:tickets_ticket_changelist"),
        {"action": "open_incident", "_selected_action": [ticket.pk]},
    )
    assert response.status_code == 302
    page = logged_in.get(response["Location"])
    assert_nothing_public_from(page, ticket, service)
