import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from notifications.models import Notification
from tickets import services
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_ticket_create_accepts_slug_and_code(customer, service, priority):
    """The contract lets integrations pass the service slug and the priority code."""
    ticket = services.ticket_create(
        customer=customer,
        service=service.slug,
        priority="P1",
        subject="Login fails",
        description="Since this morning.",
    )
    assert ticket.status == Ticket.Status.NEW
    assert ticket.tier == priority.start_tier
    assert ticket.events.get().kind == TicketEvent.Kind.CREATED


def test_ticket_create_records_the_customer_email_in_the_outbox(customer, service, priority):
    """The confirmation is a row written with the ticket, keyed so it exists once."""
    ticket = services.ticket_create(
        customer=customer, service=service, priority=priority, subject="S", description="D"
    )
    notification = Notification.objects.get(key=f"ticket:{ticket.pk}:received")
    assert notification.to == customer.email
    assert ticket.number in notification.subject


def test_ticket_create_refuses_a_service_the_customer_is_not_linked_to(customer, priority):
    from tests.factories import PriorityFactory, ServiceFactory

    other = ServiceFactory()
    PriorityFactory(service=other, code="P1")
    with pytest.raises(ValidationError):
        services.ticket_create(
            customer=customer, service=other, priority="P1", subject="S", description="D"
        )
    assert not Ticket.objects.exists()


def test_a_refused_attachment_changes_nothing(customer, service, priority):
    """A bad upload refuses the whole submission: no ticket, no email."""
    bad = SimpleUploadedFile("run.exe", b"MZ...")
    with pytest.raises(ValidationError) as excinfo:
        services.ticket_create(
            customer=customer,
            service=service,
            priority=priority,
            subject="S",
            description="D",
            attachments=[bad],
        )
    assert "run.exe" in str(excinfo.value)
    assert not Ticket.objects.exists()
    assert not Notification.objects.exists()


def test_first_staff_public_reply_is_the_first_response(ticket, tier1_staff):
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Internal", internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    message = services.ticket_reply(ticket=ticket, author=tier1_staff, body="Looking at it")
    ticket.refresh_from_db()
    assert ticket.first_response_at == message.created_at
    assert ticket.status == Ticket.Status.OPEN
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Still looking")
    ticket.refresh_from_db()
    assert ticket.first_response_at == message.created_at


def test_customer_cannot_write_internal_notes(ticket):
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket=ticket, author=ticket.customer, body="x", internal=True)


def test_another_customer_cannot_reply(ticket, other_customer):
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket=ticket, author=other_customer, body="x")


def test_customer_reply_takes_a_waiting_ticket_back_to_open(ticket, tier1_staff):
    services.ticket_set_status(ticket=ticket, status="waiting_on_customer", by=tier1_staff)
    services.ticket_reply(ticket=ticket, author=ticket.customer, body="Here is the log")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_resolve_then_reopen_clears_resolved_at(ticket, tier1_staff):
    services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None
    services.ticket_set_status(ticket=ticket, status="open", by=ticket.customer)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.resolved_at is None


def test_customer_cannot_resolve_their_own_ticket(ticket):
    with pytest.raises(ValidationError):
        services.ticket_set_status(ticket=ticket, status="resolved", by=ticket.customer)


def test_escalate_moves_up_one_tier_and_records_why(ticket, tier1_staff, tier2_staff):
    services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="Needs a code fix")
    ticket.refresh_from_db()
    assert ticket.tier == 2
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.actor == tier1_staff
    assert event.data["reason"] == "Needs a code fix"
    assert Notification.objects.filter(to=tier2_staff.email).exists()


def test_escalate_stops_at_the_top_tier(ticket, tier3_staff):
    services.ticket_escalate(ticket=ticket, by=tier3_staff)
    services.ticket_escalate(ticket=ticket, by=tier3_staff)
    with pytest.raises(ValidationError):
        services.ticket_escalate(ticket=ticket, by=tier3_staff)
    ticket.refresh_from_db()
    assert ticket.tier == 3


def test_rating_only_when_resolved_and_the_latest_counts(ticket, tier1_staff):
    """Issue 13: a rating may be changed (within 7 days of resolution, see
    test_customer_rating.py); the ticket holds the latest one."""
    with pytest.raises(ValidationError):
        services.ticket_rate(ticket=ticket, by=ticket.customer, rating=5)
    services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)
    services.ticket_rate(ticket=ticket, by=ticket.customer, rating=4, comment="Quick")
    services.ticket_rate(ticket=ticket, by=ticket.customer, rating=1)
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (1, "")


def test_closing_a_resolved_ticket_keeps_its_resolution_time(ticket, tier1_staff):
    """Closed after resolution is still resolved: the time counts for SLA and it may be rated."""
    services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)
    ticket.refresh_from_db()
    resolved_at = ticket.resolved_at
    services.ticket_set_status(ticket=ticket, status="closed", by=ticket.customer)
    ticket.refresh_from_db()
    assert ticket.resolved_at == resolved_at
    assert ticket.closed_at is not None
    services.ticket_rate(ticket=ticket, by=ticket.customer, rating=5)
