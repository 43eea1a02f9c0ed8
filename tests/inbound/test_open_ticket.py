"""Admin's "open ticket from this message": staff turn an unknown sender's mail into a ticket."""

import pytest
from django.urls import reverse

from inbound.models import InboundMessage
from inbound.services import inbound_receive
from sla.models import ServiceCustomer
from tests import factories
from tickets.models import Ticket

from .conftest import make_mail

pytestmark = pytest.mark.django_db

Outcome = InboundMessage.Outcome


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def stranger_mail(support_service):
    """Mail to the service from an address with an account that is not yet its customer."""
    raw = make_mail(
        sender="carl@newclient.example",
        subject="Need access and a fix",
        attachments=[("screen.txt", b"what I see\n", "text/plain")],
    )
    message = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message
    assert message.outcome == Outcome.IGNORED
    return message


def _page(message):
    return reverse("admin:inbound_inboundmessage_open_ticket", args=[message.pk])


def test_staff_open_a_ticket_from_an_unknown_senders_mail(
    client, superuser, stranger_mail, support_service
):
    """The form suggests the sender and the addressed service; with "give the service" ticked
    the customer gets access and the ticket carries the mail's subject, text and attachment.
    The message records the ticket; a second try changes nothing."""
    carl = factories.CustomerFactory(email="carl@newclient.example")
    client.force_login(superuser)
    form = client.get(_page(stranger_mail))
    assert form.status_code == 200
    assert b"carl@newclient.example" in form.content

    refused = client.post(
        _page(stranger_mail),
        {"customer_email": carl.email, "service": support_service.pk},
    )
    assert refused.status_code == 200 and b"not a customer of" in refused.content
    assert not Ticket.objects.exists()

    client.post(
        _page(stranger_mail),
        {"customer_email": carl.email, "service": support_service.pk, "grant_access": "on"},
    )
    ticket = Ticket.objects.get()
    assert ticket.customer == carl and ticket.service == support_service
    assert ticket.subject == "Need access and a fix"
    assert [a.name for a in ticket.attachments.all()] == ["screen.txt"]
    assert ServiceCustomer.objects.filter(service=support_service, customer=carl).exists()
    stranger_mail.refresh_from_db()
    assert stranger_mail.outcome == Outcome.TICKET_OPENED and stranger_mail.ticket == ticket
    assert "root@example.com" in stranger_mail.reason

    again = client.post(
        _page(stranger_mail),
        {"customer_email": carl.email, "service": support_service.pk, "grant_access": "on"},
    )
    assert again.status_code == 302
    assert Ticket.objects.count() == 1


def test_the_list_action_leads_to_the_form_and_tier_staff_cannot(
    client, superuser, stranger_mail, tier_groups
):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:inbound_inboundmessage_changelist"),
        {"action": "open_ticket", "_selected_action": [stranger_mail.pk]},
    )
    assert response.status_code == 302 and response["Location"] == _page(stranger_mail)
    client.force_login(factories.StaffFactory(tier=3))
    assert client.get(_page(stranger_mail)).status_code == 403


def test_no_account_no_ticket(client, superuser, stranger_mail, support_service):
    client.force_login(superuser)
    response = client.post(
        _page(stranger_mail),
        {"customer_email": "nobody@nowhere.example", "service": support_service.pk},
    )
    assert b"No active account" in response.content
    assert not Ticket.objects.exists()
