"""Who may answer a ticket by email besides its customer (CCs, colleagues), and what a reply
does to a resolved or a closed ticket, inside and past the reopen window."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from contracts.models import OrganizationMember
from inbound.models import InboundMessage
from inbound.services import inbound_receive
from notifications.models import Notification
from tests import factories
from tests.contracts.factories import OrganizationFactory
from tickets import services
from tickets.emails import received_key
from tickets.mail_thread import reply_token
from tickets.models import Message, Ticket, TicketCC

from .conftest import SUPPORT, make_mail

pytestmark = pytest.mark.django_db

Outcome = InboundMessage.Outcome


def receive(raw):
    return inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message


def token_address(ticket):
    return f"support+{reply_token(ticket.pk)}@localhost"


@pytest.fixture
def organization(support_service, client_user):
    organization = OrganizationFactory(service=support_service)
    OrganizationMember.objects.create(organization=organization, user=client_user)
    return organization


@pytest.fixture
def colleague(support_service, organization):
    colleague = factories.CustomerFactory(email="bob@client.example", services=[support_service])
    OrganizationMember.objects.create(organization=organization, user=colleague)
    return colleague


@pytest.fixture
def open_ticket(client_user, support_service):
    return services.ticket_create(
        customer=client_user,
        service=support_service,
        priority="P3",
        subject="Export fails",
        description="It fails.",
    )


def _answers_to(address):
    return Notification.objects.filter(to=address, key__startswith="inbound:auto-answer:")


# --- CCs and colleagues ------------------------------------------------------------------------


def test_a_cc_of_the_ticket_replies_by_email(open_ticket, colleague):
    """A colleague the customer CC'd on the ticket may answer its emails, as on its page."""
    services.ticket_cc_add(ticket=open_ticket, user=colleague, by=open_ticket.customer)
    message = receive(make_mail(sender="bob@client.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.REPLY_ADDED, message.reason
    assert open_ticket.messages.get().author == colleague
    assert "CC or colleague" in message.reason


def test_a_colleague_replies_only_when_the_organisation_shares_tickets(
    open_ticket, colleague, organization
):
    """Not CC'd: refused with the polite answer while the organisation keeps tickets private;
    accepted once it lets colleagues see each other's tickets (the portal's one access rule)."""
    message = receive(make_mail(sender="bob@client.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.IGNORED
    assert not open_ticket.messages.exists()
    assert _answers_to("bob@client.example").count() == 1

    organization.colleagues_see_tickets = True
    organization.save()
    message = receive(
        make_mail(sender="bob@client.example", to=token_address(open_ticket), subject="Again")
    )
    assert message.outcome == Outcome.REPLY_ADDED
    assert open_ticket.messages.get().author == colleague


def test_colleagues_copied_on_the_first_email_become_ccs(client_user, colleague, support_service):
    """The customer's To/Cc colleagues are CC'd on the new ticket (as the customer could on its
    page) and may reply by email; a copied stranger or another organisation's customer is not,
    and gets the polite answer when they reply."""
    outsider = factories.CustomerFactory(email="olga@other.example", services=[support_service])
    OrganizationMember.objects.create(organization=OrganizationFactory(), user=outsider)
    message = receive(
        make_mail(
            sender="ann@client.example",
            to=f"{SUPPORT}, Bob <BOB@client.example>",
            headers={"Cc": "olga@other.example, nobody@else.example"},
        )
    )
    ticket = message.ticket
    assert message.outcome == Outcome.TICKET_OPENED
    assert list(TicketCC.objects.filter(ticket=ticket).values_list("user__email", flat=True)) == [
        "bob@client.example"
    ]

    reply = receive(make_mail(sender="bob@client.example", to=token_address(ticket)))
    assert reply.outcome == Outcome.REPLY_ADDED
    for stranger in ("olga@other.example", "nobody@else.example"):
        refused = receive(make_mail(sender=stranger, to=token_address(ticket)))
        assert refused.outcome == Outcome.IGNORED
        assert _answers_to(stranger).count() == 1
    assert ticket.messages.count() == 1


# --- resolved: reopens, however long ago -------------------------------------------------------


def test_a_reply_to_a_ticket_resolved_long_ago_still_reopens_it(open_ticket):
    """A resolved ticket has no reopen window (only closing starts one): the customer's
    reply reopens it, as a reply on its page does, even two months later."""
    services.ticket_set_status(
        ticket=open_ticket, status="resolved", by=factories.StaffFactory(tier=1)
    )
    with time_machine.travel(timezone.now() + timedelta(days=60)):
        message = receive(make_mail(sender="ann@client.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.REPLY_ADDED
    assert "reopened" in message.reason
    open_ticket.refresh_from_db()
    assert open_ticket.status == Ticket.Status.OPEN
    assert open_ticket.resolved_at is None


# --- closed: a linked follow-up, inside or past the reopen window ----------------------------


@pytest.mark.parametrize("days_later", [1, 30])
def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(open_ticket, settings, days_later):
    """Inside the reopen window (day 1 of 14) and past it (day 30) alike: an email does not
    reopen a closed ticket; it opens a follow-up linked to it, threaded under the email."""
    settings.TICKET_REOPEN_DAYS = 14
    services.ticket_set_status(ticket=open_ticket, status="closed", by=open_ticket.customer)
    raw = make_mail(
        sender="ann@client.example",
        to=token_address(open_ticket),
        message_id="<again-1@client.example>",
    )
    with time_machine.travel(timezone.now() + timedelta(days=days_later)):
        message = receive(raw)
    assert message.outcome == Outcome.TICKET_OPENED, message.reason
    follow_up = message.ticket
    assert follow_up != open_ticket
    assert follow_up.follow_up_of == open_ticket
    assert follow_up.customer == open_ticket.customer
    assert follow_up.description.startswith(f"Follow-up to {open_ticket.number} “Export fails”")
    assert "CSV export fails" in follow_up.description
    open_ticket.refresh_from_db()
    assert open_ticket.status == Ticket.Status.CLOSED
    assert not open_ticket.messages.exists()
    confirmation = Notification.objects.get(key=received_key(follow_up))
    assert confirmation.headers["In-Reply-To"] == "<again-1@client.example>"


def test_more_replies_to_a_closed_ticket_go_to_its_open_follow_up(open_ticket):
    """A second answer to the closed ticket's old emails lands on the follow-up still open
    instead of opening another; once that is closed too, the next opens a new follow-up."""
    services.ticket_set_status(ticket=open_ticket, status="closed", by=open_ticket.customer)
    first = receive(make_mail(sender="ann@client.example", to=token_address(open_ticket)))
    follow_up = first.ticket
    second = receive(
        make_mail(sender="ann@client.example", to=token_address(open_ticket), subject="Also")
    )
    assert second.outcome == Outcome.REPLY_ADDED
    assert second.ticket == follow_up
    assert follow_up.messages.get().author == open_ticket.customer

    services.ticket_set_status(ticket=follow_up, status="closed", by=open_ticket.customer)
    third = receive(
        make_mail(sender="ann@client.example", to=token_address(open_ticket), subject="Still")
    )
    assert third.outcome == Outcome.TICKET_OPENED
    assert third.ticket not in (open_ticket, follow_up)
    assert third.ticket.follow_up_of == open_ticket


def test_a_cc_replying_to_a_closed_ticket_is_told_and_nothing_is_written(open_ticket, colleague):
    """Only the ticket's customer may continue a closed ticket (as in the portal): a CC's
    reply writes nothing and gets one answer saying the ticket is closed."""
    services.ticket_cc_add(ticket=open_ticket, user=colleague, by=open_ticket.customer)
    services.ticket_set_status(ticket=open_ticket, status="closed", by=open_ticket.customer)
    message = receive(make_mail(sender="bob@client.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.IGNORED
    assert "only its customer" in message.reason
    assert Ticket.objects.count() == 1
    assert not Message.objects.exists()
    answer = _answers_to("bob@client.example").get()
    assert answer.subject.startswith(f"Ticket {open_ticket.number} is closed")
    assert answer.headers["Auto-Submitted"] == "auto-replied"


def test_staff_may_still_answer_a_closed_ticket_by_email(open_ticket):
    """Staff's public reply to a closed ticket is added as in admin; the ticket stays closed."""
    factories.StaffFactory(email="tom@acme.example", tier=1)
    services.ticket_set_status(ticket=open_ticket, status="closed", by=open_ticket.customer)
    message = receive(make_mail(sender="tom@acme.example", to=token_address(open_ticket)))
    assert message.outcome == Outcome.REPLY_ADDED
    open_ticket.refresh_from_db()
    assert open_ticket.status == Ticket.Status.CLOSED


def test_only_the_service_address_on_to_costs_no_colleague_lookup(client_user, organization):
    """The usual email (To: the service's address) looks up no colleagues: the service's own
    addresses are left out by name."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        message = receive(make_mail(sender="ann@client.example", to=f"Support <{SUPPORT}>"))
    assert message.outcome == Outcome.TICKET_OPENED
    assert not [q for q in queries if "organizationmember" in q["sql"]]
