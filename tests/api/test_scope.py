"""Nobody reaches through the API what the portal or the admin would not show them.

Every endpoint that takes an id, called with another customer's ticket, another tier's or
another service's, answers 404 — the answer a missing id gets — and changes nothing.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.models import ApiWrite
from notifications.models import Notification
from tests import factories
from tests.api.conftest import ApiClient, make_token
from tickets import services
from tickets.models import Attachment, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

# (method, path under /api/v1/tickets/{id}/, body)
TICKET_ENDPOINTS = [
    ("get", "", None),
    ("get", "messages/", None),
    ("get", "attachments/", None),
    ("get", "attachments/{attachment}/", None),
    ("post", "messages/", {"body": "not mine"}),
    ("post", "status/", {"status": "closed"}),
    ("post", "priority/", {"priority": "P2"}),
    ("post", "assign/", {"assignee": None}),
    ("post", "escalate/", {"reason": "not mine"}),
]
IDS = [f"{method} {path or 'detail'}" for method, path, _ in TICKET_ENDPOINTS]


@pytest.fixture
def victim_ticket(customer, service, priority, tier1_staff):
    factories.PriorityFactory(service=service, code="P2", name="Medium")
    ticket = services.ticket_create(
        customer=customer,
        service=service,
        priority=priority,
        subject="Victim's ticket",
        description="Private details",
        attachments=[SimpleUploadedFile("private.txt", b"secret", content_type="text/plain")],
    )
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Looking.")
    return ticket


def _snapshot():
    return {
        "tickets": list(
            Ticket.objects.values_list("status", "priority_id", "tier", "assignee_id", "updated_at")
        ),
        "messages": Message.objects.count(),
        "events": TicketEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "notifications": Notification.objects.count(),
        "writes": ApiWrite.objects.count(),
    }


def _call(client, method, path, body, ticket_id, attachment_id):
    url = f"/api/v1/tickets/{ticket_id}/" + path.format(attachment=attachment_id)
    return client.get(url) if method == "get" else client.post(url, body)


def _assert_hidden(client, victim_ticket, method, path, body):
    """The victim's ticket answers exactly as a ticket that does not exist, and nothing moves."""
    attachment = victim_ticket.attachments.get()
    before = _snapshot()
    response = _call(client, method, path, body, victim_ticket.pk, attachment.pk)
    missing = _call(client, method, path, body, 999999, 999999)
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert (missing.status_code, missing.json()["detail"]) == (404, response.json()["detail"])
    assert b"Victim" not in response.content and b"secret" not in response.content
    assert _snapshot() == before


@pytest.mark.parametrize(("method", "path", "body"), TICKET_ENDPOINTS, ids=IDS)
def test_another_customers_ticket_is_404(other_customer, victim_ticket, method, path, body):
    _assert_hidden(ApiClient(make_token(other_customer)[1]), victim_ticket, method, path, body)


@pytest.mark.parametrize(("method", "path", "body"), TICKET_ENDPOINTS, ids=IDS)
def test_a_ticket_above_the_members_tier_is_404(victim_ticket, method, path, body):
    """A Tier 1 member who never worked a Tier 2 ticket does not see it (as in the admin)."""
    Ticket.objects.filter(pk=victim_ticket.pk).update(tier=2)
    newcomer = factories.StaffFactory(tier=1)
    _assert_hidden(ApiClient(make_token(newcomer)[1]), victim_ticket, method, path, body)


@pytest.mark.parametrize(("method", "path", "body"), TICKET_ENDPOINTS, ids=IDS)
def test_a_ticket_of_a_service_the_member_does_not_work_is_404(victim_ticket, method, path, body):
    elsewhere = factories.StaffFactory(tier=3, services=[factories.ServiceFactory()])
    _assert_hidden(ApiClient(make_token(elsewhere)[1]), victim_ticket, method, path, body)


def test_an_attachment_of_another_ticket_is_404_under_ones_own(
    customer, other_customer, victim_ticket, service, priority
):
    """Ids are checked together: my ticket's id with someone else's file id is a 404."""
    mine = services.ticket_create(
        customer=other_customer, service=service, priority=priority, subject="s", description="d"
    )
    client = ApiClient(make_token(other_customer)[1])
    attachment = victim_ticket.attachments.get()
    response = client.get(f"/api/v1/tickets/{mine.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 404


def test_a_customer_never_gets_an_internal_notes_file(customer, victim_ticket, tier1_staff):
    services.ticket_reply(
        ticket=victim_ticket,
        author=tier1_staff,
        body="note",
        internal=True,
        attachments=[SimpleUploadedFile("internal.txt", b"staff only")],
    )
    note_file = Attachment.objects.get(name="internal.txt")
    client = ApiClient(make_token(customer)[1])
    listed = client.get(f"/api/v1/tickets/{victim_ticket.pk}/attachments/").json()["results"]
    assert [a["name"] for a in listed] == ["private.txt"]
    response = client.get(f"/api/v1/tickets/{victim_ticket.pk}/attachments/{note_file.pk}/")
    assert response.status_code == 404
    messages = client.get(f"/api/v1/tickets/{victim_ticket.pk}/messages/").json()["results"]
    assert [m["body"] for m in messages] == ["Looking."]


def test_a_worked_ticket_past_the_members_tier_is_read_only(victim_ticket, tier1_staff):
    """As in the admin: who worked a ticket may still read it after it moved up, not change it."""
    Ticket.objects.filter(pk=victim_ticket.pk).update(tier=2)
    client = ApiClient(make_token(tier1_staff)[1])
    response = client.get(f"/api/v1/tickets/{victim_ticket.pk}/")
    assert response.status_code == 200 and response.json()["read_only"] is True
    before = _snapshot()
    for _, path, body in [e for e in TICKET_ENDPOINTS if e[0] == "post"]:
        response = client.post(f"/api/v1/tickets/{victim_ticket.pk}/{path}", body)
        assert response.status_code == 403, path
    assert _snapshot() == before


def test_staff_lists_only_their_tiers_and_services(victim_ticket, service, priority):
    other_service = factories.ServiceFactory()
    elsewhere = factories.TicketFactory(service=other_service)
    high = factories.TicketFactory(service=service, priority=priority)
    Ticket.objects.filter(pk=high.pk).update(tier=3)
    member = factories.StaffFactory(tier=1, services=[service])
    listed = ApiClient(make_token(member)[1]).get("/api/v1/tickets/").json()["results"]
    assert [t["id"] for t in listed] == [victim_ticket.pk]
    assert elsewhere.pk not in [t["id"] for t in listed]


def test_a_customer_lists_only_what_the_portal_lists(customer, other_customer, victim_ticket):
    client = ApiClient(make_token(other_customer)[1])
    assert client.get("/api/v1/tickets/").json()["results"] == []
    client = ApiClient(make_token(customer)[1])
    assert [t["id"] for t in client.get("/api/v1/tickets/").json()["results"]] == [victim_ticket.pk]


def test_a_cc_reads_the_ticket_as_on_the_portal(customer, other_customer, victim_ticket):
    """The portal's rule, not the API's: a CC'd colleague reads and replies."""
    from tickets.models import TicketCC

    TicketCC.objects.create(ticket=victim_ticket, user=other_customer, added_by=customer)
    client = ApiClient(make_token(other_customer)[1])
    assert client.get(f"/api/v1/tickets/{victim_ticket.pk}/").status_code == 200
    assert (
        client.post(f"/api/v1/tickets/{victim_ticket.pk}/messages/", {"body": "me too"}).status_code
        == 201
    )


def test_a_customer_cannot_use_staff_operations_on_their_own_ticket(customer, victim_ticket):
    client = ApiClient(make_token(customer)[1])
    before = _snapshot()
    for path, body in [
        ("priority/", {"priority": "P2"}),
        ("assign/", {"assignee": None}),
        ("escalate/", {}),
    ]:
        response = client.post(f"/api/v1/tickets/{victim_ticket.pk}/{path}", body)
        assert response.status_code == 403, path
    response = client.post(
        f"/api/v1/tickets/{victim_ticket.pk}/messages/", {"body": "x", "internal": True}
    )
    assert response.status_code == 403
    assert _snapshot() == before


def test_staff_do_not_open_tickets(tier1_staff, service, priority):
    response = ApiClient(make_token(tier1_staff)[1]).post(
        "/api/v1/tickets/",
        {"service": service.slug, "priority": priority.code, "subject": "s", "description": "d"},
    )
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_a_customer_cannot_open_a_ticket_for_anothers_service(customer, priority):
    other = factories.ServiceFactory()
    factories.PriorityFactory(service=other, code="P1")
    response = ApiClient(make_token(customer)[1]).post(
        "/api/v1/tickets/",
        {"service": other.slug, "priority": "P1", "subject": "s", "description": "d"},
    )
    assert response.status_code == 400
    assert "service" in response.json()["errors"]
    assert not Ticket.objects.exists()


# --- services ---------------------------------------------------------------------------------


def test_another_customers_service_is_404(customer, service, priority):
    other = factories.ServiceFactory()
    client = ApiClient(make_token(customer)[1])
    assert client.get(f"/api/v1/services/{other.slug}/").status_code == 404
    assert client.get(f"/api/v1/services/{service.slug}/").status_code == 200
    assert [s["slug"] for s in client.get("/api/v1/services/").json()["results"]] == [service.slug]


def test_a_service_the_member_does_not_work_is_404(service):
    other = factories.ServiceFactory()
    member = factories.StaffFactory(tier=2, services=[service])
    client = ApiClient(make_token(member)[1])
    assert client.get(f"/api/v1/services/{other.slug}/").status_code == 404
    assert [s["slug"] for s in client.get("/api/v1/services/").json()["results"]] == [service.slug]
