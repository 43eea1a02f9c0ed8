"""IDOR matrix: every customer URL that takes an id, with another customer's id, answers 404.

Whatever the method, the answer is the same 404 a non-existent id gets, and nothing changes:
no status code, message or email tells a stranger that the ticket exists.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import Notification
from tickets import services
from tickets.models import Attachment, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

# (URL name, the POST body that would change the ticket if the check were missing)
URLS = [
    ("tickets:detail", {}),
    ("tickets:submitted", {}),
    ("tickets:reply", {"body": "I am not the customer"}),
    ("tickets:status", {"status": "closed"}),
    ("tickets:rate", {"rating": "1", "comment": "bad"}),
    ("tickets:attachment", {}),
]


@pytest.fixture
def victim_ticket(customer, service, priority, tier1_staff):
    """A resolved ticket (so close, reopen and rate would all be possible) with a file."""
    ticket = services.ticket_create(
        customer=customer,
        service=service,
        priority=priority,
        subject="Victim's ticket",
        description="Private details",
        attachments=[SimpleUploadedFile("private.txt", b"secret", content_type="text/plain")],
    )
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Done.")
    return services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)


def _url(name, ticket):
    if name == "tickets:attachment":
        return reverse(name, args=[ticket.pk, ticket.attachments.get().pk])
    return reverse(name, args=[ticket.pk])


def _snapshot(ticket):
    ticket.refresh_from_db()
    return {
        "ticket": (ticket.status, ticket.rating, ticket.updated_at, ticket.resolved_at),
        "messages": Message.objects.count(),
        "events": TicketEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "notifications": Notification.objects.count(),
    }


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("name", "payload"), URLS, ids=[name for name, _ in URLS])
def test_another_customers_id_is_404_and_changes_nothing(
    client, other_customer, victim_ticket, name, payload, method
):
    """Another customer of the same service gets 404 on every URL, by GET or POST."""
    before = _snapshot(victim_ticket)
    client.force_login(other_customer)
    url = _url(name, victim_ticket)
    response = getattr(client, method)(url, payload)
    assert response.status_code == 404
    assert b"Victim" not in response.content and b"secret" not in response.content
    assert _snapshot(victim_ticket) == before


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("name", "payload"), URLS, ids=[name for name, _ in URLS])
def test_another_customers_id_answers_like_a_missing_id(
    client, other_customer, victim_ticket, name, payload, method
):
    """An existing id of someone else and an id that does not exist get the same answer."""
    client.force_login(other_customer)
    existing = getattr(client, method)(_url(name, victim_ticket), payload)
    missing_args = [victim_ticket.pk + 1000]
    if name == "tickets:attachment":
        missing_args.append(victim_ticket.attachments.get().pk + 1000)
    missing = getattr(client, method)(reverse(name, args=missing_args), payload)
    assert existing.status_code == missing.status_code == 404


@pytest.mark.parametrize(("name", "payload"), URLS, ids=[name for name, _ in URLS])
def test_anonymous_visitors_are_sent_to_log_in(client, victim_ticket, name, payload):
    """Without a session every customer URL redirects to log in and changes nothing."""
    before = _snapshot(victim_ticket)
    response = client.post(_url(name, victim_ticket), payload)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _snapshot(victim_ticket) == before


def test_the_owner_reaches_every_url(client, customer, victim_ticket):
    """The matrix is meaningful: the ticket's own customer is served by each URL."""
    client.force_login(customer)
    for name in ("tickets:detail", "tickets:submitted", "tickets:attachment"):
        assert client.get(_url(name, victim_ticket)).status_code == 200
    assert client.post(_url("tickets:rate", victim_ticket), {"rating": "5"}).status_code == 302
    assert client.post(_url("tickets:reply", victim_ticket), {"body": "Hi"}).status_code == 302
    assert (
        client.post(_url("tickets:status", victim_ticket), {"status": "closed"}).status_code == 302
    )
    victim_ticket.refresh_from_db()
    assert victim_ticket.rating == 5
    assert victim_ticket.status == Ticket.Status.CLOSED
