"""The staff queue: seven columns that fit 1280 px, most urgent first, saved views one click
away, a service filter and a priority filter grouped by service, all in a fixed number of
queries and all scoped to the services a member works."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.models import Organization, OrganizationMember
from tests import factories
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tickets_ticket_changelist")
HOUR = timedelta(hours=1)


def listed(response):
    return [ticket.pk for ticket in response.context["cl"].result_list]


@pytest.fixture
def make_ticket(service, priority, customer):
    def make(**kwargs):
        kwargs.setdefault("service", service)
        kwargs.setdefault("priority", priority)
        kwargs.setdefault("customer", customer)
        return factories.TicketFactory(**kwargs)

    return make


def test_the_queue_shows_seven_columns_with_one_sla_column(client, tier1_staff, make_ticket):
    """Number, subject (one line, whole text in its tooltip), customer and organisation,
    priority badge, one SLA column, tier, assignee; no separate due-date columns."""
    now = timezone.now()
    customer = factories.CustomerFactory(first_name="Ada", last_name="Byron")
    organisation = Organization.objects.create(name="Acme Ltd", service=make_ticket().service)
    OrganizationMember.objects.create(organization=organisation, user=customer)
    ticket = make_ticket(
        customer=customer,
        subject="Printer on fire " * 8,
        assignee=tier1_staff,
        response_due_at=now + 57 * timedelta(minutes=1) + timedelta(seconds=30),
        next_due_at=now + 57 * timedelta(minutes=1) + timedelta(seconds=30),
    )
    client.force_login(tier1_staff)
    response = client.get(CHANGELIST)
    page = response.content.decode()
    headers = [column["class_attrib"] for column in response.context["result_headers"] if column]
    assert len(response.context["cl"].list_display) == 8  # the action checkbox and seven
    assert "column-response_due_at" not in " ".join(headers)
    assert f'class="ticket-subject" title="{ticket.subject}"' in page
    assert "Ada Byron" in page and "Acme Ltd" in page
    assert 'class="priority-badge' in page
    assert 'class="sla sla-on-track">57 min left<' in page
    assert tier1_staff.username in page


def test_most_urgent_deadline_first_and_none_last(client, tier1_staff, make_ticket):
    """The default order is the nearest running deadline first; tickets without one last."""
    now = timezone.now()
    later = make_ticket(next_due_at=now + 5 * HOUR)
    none = make_ticket(next_due_at=None, status=Ticket.Status.RESOLVED)
    breached = make_ticket(next_due_at=now - HOUR)
    soon = make_ticket(next_due_at=now + HOUR)
    client.force_login(tier1_staff)
    assert listed(client.get(CHANGELIST)) == [breached.pk, soon.pk, later.pk, none.pk]


@pytest.mark.parametrize("who", ["tier1_staff", "superuser"])
def test_the_new_columns_cost_no_query_per_row(request, client, make_ticket, who):
    """Organisation, priority badge, SLA and assignee columns: 1 row or 30, the same queries."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    first = make_ticket(assignee=factories.StaffFactory(tier=1))
    organisation = Organization.objects.create(name="Org", service=first.service)

    def add(n):
        customer = factories.CustomerFactory()
        OrganizationMember.objects.create(organization=organisation, user=customer)
        make_ticket(
            customer=customer,
            assignee=factories.StaffFactory(tier=1) if n % 2 else None,
            next_due_at=timezone.now() + n * HOUR,
            priority=factories.PriorityFactory(service=first.service, code=f"P{n + 2}"),
        )

    add(0)
    client.get(CHANGELIST)
    with CaptureQueriesContext(connection) as few:
        client.get(CHANGELIST)
    for n in range(1, 30):
        add(n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(CHANGELIST)
    assert len(listed(response)) == 31
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.fixture
def superuser(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


def test_saved_views(client, tier2_staff, make_ticket):
    """My open tickets, Unassigned in my tier, Breaching within 1 h, Breached, Waiting on
    customer: each one click (a link above the list), each the tickets it names."""
    now = timezone.now()
    mine = make_ticket(assignee=tier2_staff, tier=2, next_due_at=now + 5 * HOUR)
    make_ticket(assignee=tier2_staff, status=Ticket.Status.RESOLVED)  # not open
    unassigned_t2 = make_ticket(tier=2, next_due_at=now + 5 * HOUR)
    make_ticket(tier=1, next_due_at=now + 5 * HOUR)  # unassigned, but not my tier
    soon = make_ticket(
        assignee=factories.StaffFactory(tier=1),
        response_due_at=now + HOUR / 2,
        next_due_at=now + HOUR / 2,
    )
    breached = make_ticket(
        assignee=factories.StaffFactory(tier=1),
        response_due_at=now - HOUR,
        next_due_at=now - HOUR,
    )
    waiting = make_ticket(
        assignee=factories.StaffFactory(tier=1), status=Ticket.Status.WAITING_ON_CUSTOMER
    )
    client.force_login(tier2_staff)

    page = client.get(CHANGELIST).content.decode()
    start = page.index('<nav class="ticket-views"')
    above = page[start : page.index("</nav>", start)]
    for view, label in [
        ("mine", "My open tickets"),
        ("unassigned", "Unassigned in my tier"),
        ("due_1h", "Breaching within 1 h"),
        ("breached", "Breached"),
        ("waiting", "Waiting on customer"),
    ]:
        assert f'<a href="?view={view}">{label}</a>' in above

    def view(name):
        return set(listed(client.get(CHANGELIST, {"view": name})))

    assert view("mine") == {mine.pk}
    assert view("unassigned") == {unassigned_t2.pk}
    assert view("due_1h") == {soon.pk}
    assert view("breached") == {breached.pk}
    assert view("waiting") == {waiting.pk}


def test_priority_filter_keeps_each_services_p1_apart(client, tier1_staff, customer):
    """Two services' "P1" are two entries ("Service — P1"), and each filters its own."""
    alpha = factories.ServiceFactory(name="Alpha", slug="alpha")
    beta = factories.ServiceFactory(name="Beta", slug="beta")
    a1 = factories.TicketFactory(
        service=alpha,
        customer=customer,
        priority=factories.PriorityFactory(service=alpha, code="P1"),
    )
    b1 = factories.TicketFactory(
        service=beta, customer=customer, priority=factories.PriorityFactory(service=beta, code="P1")
    )
    client.force_login(tier1_staff)
    response = client.get(CHANGELIST)
    spec = next(
        s
        for s in response.context["cl"].filter_specs
        if getattr(s, "parameter_name", "") == "priority"
    )
    assert ("alpha:P1", "Alpha — P1") in spec.lookup_choices
    assert ("beta:P1", "Beta — P1") in spec.lookup_choices
    assert listed(client.get(CHANGELIST, {"priority": "alpha:P1"})) == [a1.pk]
    assert listed(client.get(CHANGELIST, {"priority": "beta:P1"})) == [b1.pk]


def test_service_and_priority_filters_offer_only_my_services(client, customer):
    """A member limited to one service is not shown another service's name or priorities."""
    mine = factories.ServiceFactory(name="Mine", slug="mine")
    theirs = factories.ServiceFactory(name="Secret Client", slug="secret")
    factories.PriorityFactory(service=mine, code="P1")
    factories.PriorityFactory(service=theirs, code="P1")
    member = factories.StaffFactory(tier=1, services=[mine])
    client.force_login(member)
    response = client.get(CHANGELIST)
    specs = {getattr(s, "parameter_name", ""): s for s in response.context["cl"].filter_specs}
    assert [label for _, label in specs["service__id__exact"].lookup_choices] == ["Mine"]
    assert [label for _, label in specs["priority"].lookup_choices] == ["Mine — P1"]
    assert "Secret Client" not in response.content.decode()


@pytest.mark.parametrize("parameter", ["view", "priority", "service__id__exact"])
@pytest.mark.parametrize("value", ["\x01", "x:P1", "99999999999999999999", "²", "mine:"])
def test_filters_ignore_values_they_did_not_offer(
    client, tier1_staff, make_ticket, parameter, value
):
    """A hand-edited value shows the unfiltered list, never a 500."""
    ticket = make_ticket()
    client.force_login(tier1_staff)
    response = client.get(CHANGELIST, {parameter: value})
    assert response.status_code == 200
    assert listed(response) == [ticket.pk]
