"""What a customer page costs: the per-request reads it shares, and blank forms from memory."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tickets.templatetags import form_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def _without_token(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def _tables_read(queries):
    return [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries if " FROM " in q["sql"]]


@pytest.mark.parametrize("url_name", ["home", "tickets:list", "tickets:new"])
def test_services_and_zone_are_read_once_per_page(customer_client, customer, service, url_name):
    """The banner, the page and its forms share one read of the customer's services, and the
    display zone comes with the user: no page reads them twice."""
    factories.TicketFactory.create_batch(3, customer=customer, service=service)
    with CaptureQueriesContext(connection) as queries:
        assert customer_client.get(reverse(url_name)).status_code == 200
    tables = _tables_read(queries.captured_queries)
    assert tables.count('"sla_service"') <= 1, tables
    assert '"accounts_profile"' not in tables, tables  # joined to the user's row
    assert '"sla_servicecustomer"' not in tables, tables


def test_the_profile_zone_comes_with_the_user(customer_client, customer, service):
    """A customer who chose a zone sees times in it, read with their account in one query."""
    from accounts.models import Profile

    Profile.objects.update_or_create(user=customer, defaults={"timezone": "Asia/Tokyo"})
    ticket = factories.TicketFactory(customer=customer, service=service)
    response = customer_client.get(reverse("tickets:list"))
    assert (
        ticket.updated_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).strftime(
            "%Y-%m-%d %H:%M JST"
        )
        in response.text
    )


def test_blank_form_markup_is_kept_per_set_of_choices(client, service):
    """Two customers of different services never see each other's options, though the blank
    form's markup is reused across requests."""
    other_service = factories.ServiceFactory(slug="other-svc", name="Other Service")
    factories.PriorityFactory(service=other_service, code="P9", name="Other only")
    first = factories.CustomerFactory(services=[service])
    second = factories.CustomerFactory(services=[other_service])
    form_cache._blank_forms.clear()

    client.force_login(first)
    one = client.get(reverse("tickets:new")).text
    again = client.get(reverse("tickets:new")).text
    client.force_login(second)
    two = client.get(reverse("tickets:new")).text

    assert "Other Service" not in one and "Other only" not in one
    assert "Other Service" in two and service.name not in two
    assert _without_token(one) == _without_token(again)
    assert len(form_cache._blank_forms) == 2


def test_a_bound_form_is_rendered_afresh_with_its_errors(customer_client, service, priority):
    """An invalid submission shows the visitor's input and errors, never the cached blank form."""
    response = customer_client.post(
        reverse("tickets:new"),
        {"service": service.pk, "priority": priority.pk, "subject": "", "description": "typed"},
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert "typed" in response.text
