"""The customer's services and organisation come with their account's row (support.preloads):
never kept beyond the request, so any change shows on the next page, and the pages are the
same as when each is read on its own."""

import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import EmailBackend
from contracts.models import OrganizationMember
from sla.models import Service, ServiceCustomer
from sla.selectors import customer_services
from tests import factories
from tests.contracts.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def _loaded(user):
    """The user as a request loads them (the session's backend)."""
    return EmailBackend().get_user(user.pk)


def _service_options(html):
    return re.findall(r'<option value="([a-z0-9-]+)"', html.split('name="service"', 1)[1])


def test_services_come_with_the_user_in_the_order_customer_services_reads_them(customer):
    """By name (the database's collation), then id; every field readable, the ones not
    preloaded read on demand."""
    customer.service_memberships.all().delete()
    names = ["beta", "Alpha", "alpha", "Zulu", "beta", "Émile", "_under"]
    for n, name in enumerate(names):
        service = factories.ServiceFactory(slug=f"s{n}", name=name, contact=f"s{n}@example.com")
        ServiceCustomer.objects.create(service=service, customer=customer)
    factories.ServiceFactory(slug="not-theirs", name="Aaa")

    with CaptureQueriesContext(connection) as queries:
        user = _loaded(customer)
        preloaded = customer_services(user)
    assert len(queries) == 1
    expected = list(Service.objects.filter(memberships__customer=customer).order_by("name", "id"))
    assert [s.pk for s in preloaded] == [s.pk for s in expected]
    assert [(s.slug, s.name, s.timezone) for s in preloaded] == [
        (s.slug, s.name, s.timezone) for s in expected
    ]
    assert [s.contact for s in preloaded] == [s.contact for s in expected]


def test_a_customer_of_no_service_has_none(customer):
    customer.service_memberships.all().delete()
    assert customer_services(_loaded(customer)) == []


def test_service_membership_changes_show_on_the_next_page(client, customer, service):
    """Added to a service: its filter option on the next page; removed: gone."""
    other = factories.ServiceFactory(slug="added-later", name="Added later")
    client.force_login(customer)
    assert _service_options(client.get(reverse("tickets:list")).text) == [service.slug]

    ServiceCustomer.objects.create(service=other, customer=customer)
    assert _service_options(client.get(reverse("tickets:list")).text) == [
        other.slug,
        service.slug,
    ]

    ServiceCustomer.objects.filter(service=service, customer=customer).delete()
    assert _service_options(client.get(reverse("tickets:list")).text) == [other.slug]


def test_a_renamed_service_shows_on_the_next_page(client, customer, service):
    client.force_login(customer)
    assert service.name in client.get(reverse("home")).text
    Service.objects.filter(pk=service.pk).update(name="Renamed service")
    assert "Renamed service" in client.get(reverse("home")).text


def test_two_customers_see_only_their_own_services(client, service):
    other = factories.ServiceFactory(slug="other-svc", name="Other service")
    first = factories.CustomerFactory(services=[service])
    second = factories.CustomerFactory(services=[other])
    client.force_login(first)
    assert _service_options(client.get(reverse("tickets:list")).text) == [service.slug]
    client.force_login(second)
    assert _service_options(client.get(reverse("tickets:list")).text) == [other.slug]


def test_joining_and_leaving_an_organisation_shows_on_the_next_page(client, service, customer):
    """A colleague's ticket opens as soon as the customer joins the sharing organisation, and
    is 404 again as soon as they leave it."""
    organization = OrganizationFactory(service=service, colleagues_see_tickets=True)
    colleague = factories.CustomerFactory(services=[service])
    OrganizationMember.objects.create(organization=organization, user=colleague)
    ticket = factories.TicketFactory(customer=colleague, service=service)
    client.force_login(customer)
    assert client.get(ticket.get_absolute_url()).status_code == 404

    OrganizationMember.objects.create(organization=organization, user=customer)
    assert client.get(ticket.get_absolute_url()).status_code == 200
    assert ticket.subject in client.get(reverse("tickets:list")).text

    OrganizationMember.objects.filter(user=customer).delete()
    assert client.get(ticket.get_absolute_url()).status_code == 404
    assert ticket.subject not in client.get(reverse("tickets:list")).text


def _without_tokens(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_pages_are_the_same_with_and_without_the_preload(client, service, priority):
    """Every customer page, for a customer in an organisation (colleagues, CC candidates,
    shared tickets) and one in none, is byte-identical whether the services and membership
    come with the user or are read by the page."""
    second = factories.ServiceFactory(slug="second", name="Second service")
    factories.PriorityFactory(service=second, code="P2", name="Normal")
    organization = OrganizationFactory(service=service, colleagues_see_tickets=True)
    member = factories.CustomerFactory(services=[service, second], email="member@example.com")
    colleague = factories.CustomerFactory(services=[service], email="colleague@example.com")
    loner = factories.CustomerFactory(services=[second], email="loner@example.com")
    for user in (member, colleague):
        OrganizationMember.objects.create(organization=organization, user=user)
    own = factories.TicketFactory(customer=member, service=service, priority=priority)
    shared = factories.TicketFactory(customer=colleague, service=service, priority=priority)
    lonely = factories.TicketFactory(customer=loner, service=second)
    pages = {
        member: ["/", "/tickets/", "/tickets/?service=second", "/tickets/new/"]
        + [own.get_absolute_url(), shared.get_absolute_url()],
        loner: ["/", "/tickets/", "/tickets/new/", lonely.get_absolute_url()],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            with_preload = client.get(url)
            with override_settings(ACCOUNTS_USER_PRELOADS=[]):
                without = client.get(url)
            assert with_preload.status_code == without.status_code == 200, url
            assert _without_tokens(with_preload.text) == _without_tokens(without.text), url
