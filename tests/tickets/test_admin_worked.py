"""Staff keep read access to tickets they worked after the ticket moved past their tier, and an
escalation hands the ticket over to the next tier unassigned, saying so."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests import factories
from tickets import services
from tickets.escalation import escalate_lapsed_tickets
from tickets.models import Attachment, Ticket, TicketEvent
from tickets.selectors import tickets_worked_by

pytestmark = pytest.mark.django_db


def change_url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def form_data(ticket, **overrides):
    data = {
        "status": ticket.status,
        "priority": ticket.priority_id,
        "assignee": ticket.assignee_id or "",
        "public_reply": "",
        "internal_note": "",
        "escalate_reason": "",
    }
    data.update(overrides)
    return data


def test_worked_by_is_assignment_messages_and_events_of_the_member(
    ticket, tier1_staff, make_other_ticket
):
    """Assigned, wrote a message (reply or note), or acted (an event): those tickets, no other."""
    assigned = make_other_ticket(assignee=tier1_staff)
    noted = make_other_ticket()
    factories.MessageFactory(ticket=noted, author=tier1_staff, internal=True)
    acted = make_other_ticket()
    TicketEvent.objects.create(ticket=acted, actor=tier1_staff, kind="status", summary="x")
    untouched = make_other_ticket()
    factories.MessageFactory(ticket=untouched, author=factories.StaffFactory(tier=1))

    worked = set(tickets_worked_by(user=tier1_staff).values_list("pk", flat=True))

    assert worked == {assigned.pk, noted.pk, acted.pk}
    assert not tickets_worked_by(user=ticket.customer).exists()  # customers: nothing


def test_worked_by_stays_within_the_members_services(service, customer, priority):
    """A member limited to some services reads worked tickets of those services only."""
    other = factories.ServiceFactory()
    member = factories.StaffFactory(tier=1, services=[other])
    ticket = factories.TicketFactory(service=service, customer=customer, priority=priority)
    factories.MessageFactory(ticket=ticket, author=member)
    assert not tickets_worked_by(user=member).exists()


@pytest.fixture
def make_other_ticket(service, customer, priority):
    def make(**kwargs):
        return factories.TicketFactory(
            service=service, customer=customer, priority=priority, tier=2, **kwargs
        )

    return make


def test_escalating_my_ticket_hands_it_over_and_i_can_still_read_it(client, tier1_staff, ticket):
    """Tier 1 escalates the ticket assigned to them: it enters Tier 2 unassigned (the event says
    from whom), and its page still opens for them read-only, saying where it went."""
    services.ticket_assign(ticket=ticket, assignee=tier1_staff, by=tier1_staff)
    client.force_login(tier1_staff)
    response = client.post(
        change_url(ticket),
        form_data(ticket, assignee=tier1_staff.pk, escalate="on", escalate_reason="Needs a DBA"),
        follow=True,
    )
    assert "You can still" in response.content.decode()

    ticket.refresh_from_db()
    assert (ticket.tier, ticket.assignee) == (2, None)
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.data["unassigned"] == {"id": tier1_staff.pk, "username": tier1_staff.username}
    assert f"unassigned from {tier1_staff.username}" in event.summary

    response = client.get(change_url(ticket))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    page = response.content.decode()
    assert "it is now with Tier 2" in page
    assert "not assigned to anyone yet" in page
    assert "Needs a DBA" in page
    assert 'name="public_reply"' not in page


def test_the_page_names_who_has_it_now(client, tier1_staff, tier2_staff, ticket):
    """Once Tier 2 picks it up, the earlier assignee's page names the new one."""
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Looking")
    services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="Beyond me")
    services.ticket_assign(ticket=ticket, assignee=tier2_staff, by=tier2_staff)
    client.force_login(tier1_staff)
    page = client.get(change_url(ticket)).content.decode()
    assert "it is now with Tier 2" in page
    assert f"assigned to {tier2_staff.get_full_name() or tier2_staff.username}" in page


def test_read_access_is_not_change_access(client, tier1_staff, ticket):
    """A post to a worked ticket past my tier is refused and changes nothing."""
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Looking", internal=True)
    services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="Beyond me")
    client.force_login(tier1_staff)
    response = client.post(
        change_url(ticket), form_data(ticket, status="resolved", public_reply="Sneaky")
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW
    assert not ticket.messages.filter(body="Sneaky").exists()


def test_a_ticket_i_never_worked_still_does_not_exist_for_me(
    client, tier1_staff, make_other_ticket
):
    """Only worked tickets are readable past my tier; the rest stay out of sight."""
    above = make_other_ticket(subject="Not mine")
    client.force_login(tier1_staff)
    response = client.get(change_url(above), follow=True)
    assert "doesn’t exist" in response.content.decode()
    assert "Not mine" not in response.content.decode()


def test_a_worked_tickets_attachments_stay_downloadable(client, tier1_staff, ticket):
    """Read access covers the files of the conversation I took part in."""
    message = services.ticket_reply(ticket=ticket, author=tier1_staff, body="See log")
    attachment = Attachment.objects.create(
        ticket=ticket,
        message=message,
        uploaded_by=tier1_staff,
        file="attachments/test/log.txt",
        token="tok-worked",
        name="log.txt",
        content_type="text/plain",
        size=3,
    )
    attachment.file.storage.save("attachments/test/log.txt", io.BytesIO(b"log"))
    services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="Beyond me")
    client.force_login(tier1_staff)
    url = reverse("tickets:attachment", args=[ticket.pk, attachment.pk])
    assert client.get(url).status_code == 200


OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday


def test_the_sweep_hands_over_an_assigned_ticket_it_escalates(service, customer, tier_groups):
    """A lapsed response escalates the ticket; its Tier 1 assignee is unassigned, named in the
    event, and keeps reading it."""
    factories.TierFactory(service=service, level=1)
    factories.TierFactory(service=service, level=2)
    prio = factories.PriorityFactory(service=service, code="P1", response="1h", resolution="")
    agent = factories.StaffFactory(tier=1)
    with time_machine.travel(OPENED, tick=False):
        ticket = services.ticket_create(
            customer=customer, service=service, priority=prio, subject="S", description="D"
        )
        services.ticket_assign(ticket=ticket, assignee=agent, by=agent)

    escalate_lapsed_tickets(now=OPENED + timedelta(minutes=61))

    ticket.refresh_from_db()
    assert (ticket.tier, ticket.assignee) == (2, None)
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.actor is None
    assert event.data["unassigned"]["id"] == agent.pk
    assert tickets_worked_by(user=agent).filter(pk=ticket.pk).exists()
