"""Closing asks for confirmation; a closed ticket can be reopened for TICKET_REOPEN_DAYS, after
which the page offers a follow-up that links to it."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def _close(client, ticket):
    return client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "closed"})


def test_close_asks_for_confirmation_first(customer_client, ticket):
    """The ticket page offers "Close ticket…" as a link to a confirmation page, which changes
    nothing until its button is pressed; then the ticket is closed."""
    page = customer_client.get(ticket.get_absolute_url())
    close_url = reverse("tickets:close", args=[ticket.pk])
    assert f'href="{close_url}"' in page.text
    assert 'name="status" value="closed"' not in page.text  # no one-click close on the page

    confirm = customer_client.get(close_url)
    assert confirm.status_code == 200
    assert "Yes, close the ticket" in confirm.text and "No, keep it open" in confirm.text
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW

    assert _close(customer_client, ticket).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_a_closed_ticket_can_be_reopened_within_the_period(customer_client, ticket, settings):
    """Within TICKET_REOPEN_DAYS of closing, Reopen is offered and works: open, no longer closed
    or resolved."""
    settings.TICKET_REOPEN_DAYS = 14
    _close(customer_client, ticket)
    with time_machine.travel(timezone.now() + timedelta(days=13)):
        page = customer_client.get(ticket.get_absolute_url())
        assert page.context["can_reopen"] and not page.context["can_follow_up"]
        customer_client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "open"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.closed_at is None and ticket.resolved_at is None


def test_after_the_period_reopening_is_refused_and_a_follow_up_is_offered(
    customer_client, ticket, settings
):
    """Past the period, reopening is refused with a reason, and the page links "Open a
    follow-up", whose ticket names and links the old one."""
    settings.TICKET_REOPEN_DAYS = 3
    _close(customer_client, ticket)
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        refused = customer_client.post(
            reverse("tickets:status", args=[ticket.pk]), {"status": "open"}, follow=True
        )
        assert "can no longer be reopened" in refused.text
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CLOSED

        page = customer_client.get(ticket.get_absolute_url())
        follow_up_url = f"{reverse('tickets:new')}?follow_up={ticket.pk}"
        assert page.context["can_follow_up"] and not page.context["can_reopen"]
        assert follow_up_url in page.text

        form = customer_client.get(follow_up_url)
        assert form.context["form"]["subject"].value() == f"Follow-up: {ticket.subject}"
        response = customer_client.post(
            reverse("tickets:new"),
            {
                "follow_up": ticket.pk,
                "service": ticket.service_id,
                "priority": ticket.priority_id,
                "subject": "It is back",
                "description": "Same trouble again.",
            },
        )
    assert response.status_code == 302
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert new.follow_up_of == ticket
    assert new.description.startswith(f"Follow-up to {ticket.number}")
    assert f'href="{ticket.get_absolute_url()}"' in customer_client.get(new.get_absolute_url()).text


def test_a_follow_up_of_someone_elses_ticket_is_404(client, other_customer, ticket):
    """Another customer cannot open a follow-up of (or learn about) a ticket not theirs."""
    services.ticket_set_status(ticket=ticket, status="closed", by=ticket.customer)
    client.force_login(other_customer)
    assert client.get(f"{reverse('tickets:new')}?follow_up={ticket.pk}").status_code == 404
