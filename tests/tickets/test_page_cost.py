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


# --- Fewer queries, the same pages (issue 15) --------------------------------------------------


def _page_queries(queries):
    """The page's SQL, without the session's read (none when sessions come from Redis)."""
    return [q["sql"] for q in queries.captured_queries if '"django_session"' not in q["sql"]]


def _query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(_page_queries(queries))


@pytest.mark.parametrize("count", [1, 30])
def test_my_tickets_reads_its_rows_and_their_total_in_one_query(
    customer_client, customer, service, priority, count
):
    """The page's rows carry the list's total (a window count): no separate COUNT(*), and the
    number of queries does not grow with the tickets."""
    factories.TicketFactory.create_batch(count, customer=customer, service=service)
    customer_client.get(reverse("tickets:list"))
    with CaptureQueriesContext(connection) as queries:
        response = customer_client.get(reverse("tickets:list"))
    sqls = _page_queries(queries)
    assert not [sql for sql in sqls if "COUNT(*)" in sql], sqls
    # the user (+profile, organisation membership, services: support.preloads), the page with
    # its total
    assert len(sqls) == 2, sqls
    assert f"{count} ticket{'s' if count > 1 else ''}." in response.text


@pytest.mark.parametrize(
    "page",
    [None, "", "1", "2", "3", "99", "0", "-1", "abc", "2.0", "²", " 2", "1e3", "9" * 20],
)
@pytest.mark.parametrize("tickets", [0, 30])
def test_my_tickets_pages_exactly_as_the_paginator_does(
    customer_client, customer, service, priority, page, tickets
):
    """Whatever the page number, the page shown (number, rows, total) is the one Django's
    ``Paginator.get_page`` gives: a bad number is page 1, one past the end the last page."""
    from django.core.paginator import Paginator

    from tickets.selectors import ticket_list_for_customer
    from tickets.views import TICKETS_PER_PAGE

    factories.TicketFactory.create_batch(tickets, customer=customer, service=service)
    query = {} if page is None else {"page": page}
    shown = customer_client.get(reverse("tickets:list"), query).context["page"]
    expected = Paginator(
        ticket_list_for_customer(user=customer, include_shared=True), TICKETS_PER_PAGE
    ).get_page(page)
    assert shown.number == expected.number
    assert shown.paginator.count == expected.paginator.count == tickets
    assert shown.paginator.num_pages == expected.paginator.num_pages
    assert [t.pk for t in shown.object_list] == [t.pk for t in expected.object_list]
    assert (shown.has_previous(), shown.has_next()) == (
        expected.has_previous(),
        expected.has_next(),
    )


def test_ticket_page_lists_each_file_where_it_belongs_never_an_internal_notes(
    customer_client, customer, service, priority, tier1_staff
):
    """The ticket's files are read in one query: the opening ones under the description, a
    reply's under that reply, an internal note's nowhere (nor its text)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets import services

    def upload(name):
        return SimpleUploadedFile(name, b"data", content_type="text/plain")

    ticket = services.ticket_create(
        customer=customer,
        service=service,
        priority=priority,
        subject="Files",
        description="See attached.",
        attachments=[upload("opening.txt")],
    )
    services.ticket_reply(
        ticket=ticket, author=tier1_staff, body="first", attachments=[upload("first.txt")]
    )
    services.ticket_reply(
        ticket=ticket,
        author=tier1_staff,
        body="private note",
        internal=True,
        attachments=[upload("internal.txt")],
    )
    services.ticket_reply(
        ticket=ticket, author=tier1_staff, body="second", attachments=[upload("second.txt")]
    )
    html = customer_client.get(ticket.get_absolute_url()).text
    assert "internal.txt" not in html and "private note" not in html
    description, first, second = (
        html.index("See attached."),
        html.index(">first<"),
        html.index(">second<"),
    )
    assert description < html.index("opening.txt") < first < html.index("first.txt") < second
    assert second < html.index("second.txt")
    assert html.count(".txt</a>") == 3


def test_ticket_page_queries_do_not_grow_with_the_conversation(
    customer_client, customer, service, priority, tier1_staff
):
    """The owner's ticket by primary key (no access union), the CCs, the messages, all the
    files in one query, the CC candidates, the banner's services: the same count for a bare
    ticket and one with replies and files."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets import services

    bare = factories.TicketFactory(customer=customer, service=service, priority=priority)
    busy = factories.TicketFactory(customer=customer, service=service, priority=priority)
    for n in range(5):
        services.ticket_reply(
            ticket=busy,
            author=tier1_staff,
            body=f"reply {n}",
            attachments=[SimpleUploadedFile(f"f{n}.txt", b"x", content_type="text/plain")],
        )
    customer_client.get(bare.get_absolute_url())
    # the user (+profile, membership, services), ticket, CCs, messages, files; no CC candidates
    # for a customer in no organisation (tests/tickets/test_customer_colleagues.py: one who is)
    assert _query_count(customer_client, bare.get_absolute_url()) == 5
    assert _query_count(customer_client, busy.get_absolute_url()) == 5


@pytest.mark.parametrize("active,done", [(0, 0), (0, 3), (2, 0), (3, 9)])
def test_home_counts_active_tickets_with_the_recent_ones(
    customer_client, customer, other_customer, service, active, done
):
    """The five latest tickets and the active count come in one query; the count covers every
    active ticket of the customer's, the older ones beyond the five included, and nobody
    else's."""
    from tickets.models import Ticket

    for _ in range(active):
        factories.TicketFactory(customer=customer, service=service, status=Ticket.Status.OPEN)
    for n in range(done):
        status = Ticket.Status.RESOLVED if n % 2 else Ticket.Status.CLOSED
        factories.TicketFactory(customer=customer, service=service, status=status)
    factories.TicketFactory(customer=other_customer, service=service)
    customer_client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        response = customer_client.get(reverse("home"))
    assert response.context["active_count"] == active
    assert len(response.context["recent_tickets"]) == min(active + done, 5)
    sqls = _page_queries(queries)
    assert not [sql for sql in sqls if "COUNT(*)" in sql], sqls
    # the user (+profile, membership, services), recent tickets with the active count; no
    # organisation, so no contract usage read
    assert len(sqls) == 2, sqls


@pytest.mark.parametrize("zone", ["", "Asia/Tokyo"])
def test_my_tickets_rows_from_values_are_the_rows_from_the_tickets(
    customer_client, customer, service, priority, zone
):
    """A page of "my tickets" is built from the rows' values (``ListRow``); a page number that
    goes to ``Paginator.get_page`` (``?page=abc``: page 1) is built from the tickets themselves.
    Both pages are the same, byte for byte: escaping, priorities' labels, services' zones."""
    from accounts.models import Profile
    from sla.models import Priority

    if zone:
        Profile.objects.update_or_create(user=customer, defaults={"timezone": zone})
    other_service = factories.ServiceFactory(name="R&D <ops>", timezone="America/New_York")
    customer.service_memberships.create(service=other_service)
    described = factories.PriorityFactory(
        service=other_service, code="P0", name="Critical", description='Down & "out"'
    )
    Priority.objects.filter(pk=priority.pk).update(description="")  # the label without one
    for n in range(30):
        factories.TicketFactory(
            customer=customer,
            service=other_service if n % 3 else service,
            priority=described if n % 3 else priority,
            subject=f"<b>Ticket</b> & {n} 'quoted'",
        )
    from_values = customer_client.get(reverse("tickets:list"), {"page": "1"})
    from_tickets = customer_client.get(reverse("tickets:list"), {"page": "abc"})
    assert type(from_values.context["page"][0]).__name__ == "ListRow"
    assert type(from_tickets.context["page"][0]).__name__ == "Ticket"
    assert "&lt;b&gt;Ticket&lt;/b&gt; &amp;" in from_values.text
    assert _without_token(from_values.text) == _without_token(from_tickets.text)
