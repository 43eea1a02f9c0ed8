"""Colleagues of one organisation see and follow its tickets when the organisation allows it;
the customer CCs colleagues, who get the ticket's customer emails and may read and reply."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contracts.models import OrganizationMember
from notifications.models import Notification
from tests import factories
from tests.contracts.factories import OrganizationFactory
from tickets import services
from tickets.models import TicketCC

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization(service):
    return OrganizationFactory(service=service)


@pytest.fixture
def colleague(service, organization, customer):
    OrganizationMember.objects.create(organization=organization, user=customer)
    colleague = factories.CustomerFactory(services=[service], email="colleague@acme.example")
    OrganizationMember.objects.create(organization=organization, user=colleague)
    return colleague


def _detail(client, user, ticket):
    client.force_login(user)
    return client.get(ticket.get_absolute_url())


def test_colleagues_see_nothing_unless_the_organisation_allows_it(
    client, ticket, colleague, organization
):
    """Off (the default): a colleague's ticket is 404 and not listed. On: listed, readable,
    and the colleague can reply."""
    assert _detail(client, colleague, ticket).status_code == 404
    assert ticket.subject not in client.get(reverse("tickets:list")).text

    organization.colleagues_see_tickets = True
    organization.save()
    page = _detail(client, colleague, ticket)
    assert page.status_code == 200 and "a colleague of yours" in page.text
    assert ticket.subject in client.get(reverse("tickets:list")).text
    reply = client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "Same here."})
    assert reply.status_code == 302 and ticket.messages.get().author == colleague
    # The owner's actions stay the owner's.
    assert client.get(reverse("tickets:close", args=[ticket.pk])).status_code == 404


def test_a_stranger_in_another_organisation_still_gets_404(client, ticket, colleague, organization):
    """Sharing is within the organisation only."""
    organization.colleagues_see_tickets = True
    organization.save()
    stranger = factories.CustomerFactory(services=[ticket.service])
    OrganizationMember.objects.create(organization=OrganizationFactory(), user=stranger)
    assert _detail(client, stranger, ticket).status_code == 404


def test_a_colleague_follows_a_shared_ticket_and_hears_of_replies(
    client, ticket, colleague, organization, tier1_staff
):
    """ "Follow this ticket" CCs the colleague: the staff reply's email comes to them too."""
    organization.colleagues_see_tickets = True
    organization.save()
    client.force_login(colleague)
    client.post(reverse("tickets:ccs", args=[ticket.pk]), {"action": "follow"})
    assert TicketCC.objects.filter(ticket=ticket, user=colleague).exists()
    message = services.ticket_reply(ticket=ticket, author=tier1_staff, body="On it.")
    assert Notification.objects.get(key=f"message:{message.pk}:cc:{colleague.pk}").to == (
        colleague.email
    )


def test_the_customer_ccs_a_colleague_who_may_then_read_and_reply(
    client, ticket, colleague, customer, tier1_staff
):
    """The customer adds a colleague (same organisation) as CC, even with sharing off: the CC
    reads, replies, and gets the reply and resolution emails; removing them ends it."""
    client.force_login(customer)
    page = client.get(ticket.get_absolute_url())
    assert "colleague@acme.example" in page.text  # offered in "CC a colleague"
    client.post(reverse("tickets:ccs", args=[ticket.pk]), {"action": "add", "user": colleague.pk})
    assert TicketCC.objects.filter(ticket=ticket, user=colleague).exists()

    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Fixed.")
    services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)
    to_colleague = Notification.objects.filter(to=colleague.email, key__contains=":cc:")
    assert to_colleague.count() == 2

    assert _detail(client, colleague, ticket).status_code == 200
    client.force_login(customer)
    client.post(
        reverse("tickets:ccs", args=[ticket.pk]), {"action": "remove", "user": colleague.pk}
    )
    assert _detail(client, colleague, ticket).status_code == 404


def test_only_colleagues_can_be_ccd(client, ticket, customer, colleague):
    """A customer outside the organisation cannot be CC'd (nor can anyone by a non-owner)."""
    outsider = factories.CustomerFactory(services=[ticket.service])
    client.force_login(customer)
    client.post(reverse("tickets:ccs", args=[ticket.pk]), {"action": "add", "user": outsider.pk})
    assert not TicketCC.objects.exists()
    with pytest.raises(ValidationError):
        services.ticket_cc_add(ticket=ticket, user=outsider, by=customer)


def test_leaving_the_organisation_ends_cc_access(client, ticket, colleague, customer, organization):
    """A CC removed from the organisation by staff is no longer CC'd and gets 404."""
    from contracts.services import organization_remove_member

    services.ticket_cc_add(ticket=ticket, user=colleague, by=customer)
    assert _detail(client, colleague, ticket).status_code == 200
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    organization_remove_member(organization=organization, user=colleague, by=admin)
    assert not TicketCC.objects.exists()
    assert _detail(client, colleague, ticket).status_code == 404


def test_the_home_page_counts_the_tickets_my_tickets_lists(client, ticket, colleague, organization):
    """Shared: the colleague's home page counts and shows the organisation's active ticket, as
    the "My tickets" page its count links to lists it; not shared: neither does."""
    client.force_login(colleague)
    home = client.get(reverse("home"))
    assert home.context["active_count"] == 0 and ticket.subject not in home.text

    organization.colleagues_see_tickets = True
    organization.save()
    home = client.get(reverse("home"))
    assert home.context["active_count"] == 1 and ticket.subject in home.text
    listed = client.get(reverse("tickets:list"), {"status": "active"})
    assert ticket.subject in listed.text
