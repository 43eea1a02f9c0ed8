"""Every admin changelist answers hostile query strings with a page, a redirect or a 400, never
a 500; a NUL byte anywhere in a request's query string or form fields is refused with a 400."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from notifications.models import Notification
from tests import factories
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    "\x00",  # PostgreSQL text cannot hold it
    "abc' OR '1'='1",  # not a number, not a choice, a quote
    "ünïcødé ☃ 😀 " + "x" * 3000,  # long and beyond ASCII
    "-1",
    "9999999999999999999999",  # beyond any integer column
    "²",  # a digit to str.isdigit(), not to int()
    "2026-13-45",
]

# Parameters every changelist reads besides its filters: search, ordering, page, and the
# popup's field. (``all`` and ``_facets`` only count as present or not.)
CHANGELIST_PARAMETERS = ["q", "o", "p", "_to_field"]

ANSWERS = {200, 302, 400}


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def rows(ticket, tier1_staff):
    """A little of everything, so lookups have choices and changelists have rows to show."""
    factories.PriorityFactory(service=ticket.service, code="P2")
    factories.TicketFactory(status=Ticket.Status.OPEN)
    Notification.objects.create(key="hostile:1", to="a@example.com", subject="s", body_text="b")


def filter_parameters(model_admin, request):
    """The query parameter names of the changelist's filters, as the admin itself builds them
    (e.g. ``status__exact``, ``service__id__exact``, ``retired_at__isempty``, ``priority``)."""
    names = []
    for entry in model_admin.get_list_filter(request):
        if isinstance(entry, type) and issubclass(entry, admin.ListFilter):
            spec = entry(request, {}, model_admin.model, model_admin)
        else:
            path, make = entry if isinstance(entry, (list, tuple)) else (entry, None)
            make = make or admin.FieldListFilter.create
            field = get_fields_from_path(model_admin.model, path)[-1]
            spec = make(field, request, {}, model_admin.model, model_admin, field_path=path)
        names += spec.expected_parameters()
    if model_admin.date_hierarchy:
        field = model_admin.date_hierarchy
        names += [f"{field}__year", f"{field}__month", f"{field}__day"]
    return names + CHANGELIST_PARAMETERS


def changelists(user):
    """``(url, parameter names)`` of every registered changelist the user may open."""
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        request = RequestFactory().get(url)
        request.user = user
        yield url, filter_parameters(model_admin, request), model_admin.has_view_permission(request)


def walk(client, user, values=HOSTILE_VALUES):
    """Every (status, changelist, parameter, value) that did not answer 200, 302 or 400 (a
    changelist the user may not open: 403, once)."""
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is recorded, so one run lists them all
    wrong = []
    for url, names, may_view in changelists(user):
        if not may_view:
            response = client.get(url, {"q": values[-1]})
            if response.status_code != 403:
                wrong.append((response.status_code, url, "q", values[-1][:20]))
            continue
        for name in names:
            for value in values:
                response = client.get(url, {name: value})
                if response.status_code not in ANSWERS:
                    wrong.append((response.status_code, url, name, value[:20]))
    return wrong


def test_every_changelist_survives_hostile_queries_as_a_superuser(client, rows, superuser):
    """Every filter, search, ordering, page and date parameter of every registered changelist,
    given a NUL, a quote, a huge string, bad numbers, unicode or an impossible date, answers
    200 (the unfiltered list), 302 (the admin's ``?e=1``) or 400: never a 500."""
    wrong = walk(client, superuser)
    assert not wrong, "\n".join(map(str, wrong))


def test_every_changelist_survives_hostile_queries_as_tier1_staff(client, rows, tier1_staff):
    """The same walk as a Tier 1 member (scoped lookups, fewer changelists): never a 500."""
    wrong = walk(client, tier1_staff)
    assert not wrong, "\n".join(map(str, wrong))


@pytest.mark.postgres
def test_nul_bytes_reported_on_postgresql_are_a_400(client, rows, superuser):
    """The reported 500s (PostgreSQL text cannot hold NUL: DataError) answer 400 on the
    database that raised them."""
    client.force_login(superuser)
    tickets = reverse("admin:tickets_ticket_changelist")
    outbox = reverse("admin:notifications_notification_changelist")
    for url, name in [
        (tickets, "priority"),
        (tickets, "status"),
        (tickets, "status__exact"),
        (tickets, "q"),
        (outbox, "status"),
        (outbox, "status__exact"),
        (outbox, "q"),
    ]:
        assert client.get(url, {name: "\x00"}).status_code == 400, (url, name)
    assert walk(client, superuser, values=["\x00"]) == []


def test_a_nul_in_form_data_is_a_400_and_changes_nothing(client, ticket, tier1_staff):
    """A form field (or its name) holding a NUL is refused before any view sees it."""
    client.force_login(tier1_staff)
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    assert client.post(url, {"subject": "Hacked\x00"}).status_code == 400
    assert client.post(url, {"subject\x00": "Hacked"}).status_code == 400
    ticket.refresh_from_db()
    assert ticket.subject != "Hacked"


def test_a_nul_in_the_path_is_a_400(client, superuser):
    """A NUL in the URL path never reaches a view (an object id, a slug)."""
    client.force_login(superuser)
    assert client.get("/admin/tickets/ticket/1\x00/change/").status_code == 400


def test_an_uploaded_file_may_contain_nul_bytes(client, customer, service, priority):
    """File contents are not form fields: a binary attachment full of NULs is still accepted."""
    client.force_login(customer)
    response = client.post(
        reverse("tickets:new"),
        {
            "service": service.pk,
            "priority": priority.pk,
            "subject": "Core dump attached",
            "description": "See the file.",
            "attachments": [SimpleUploadedFile("core.png", b"\x89PNG\x00\x00\x00", "image/png")],
        },
    )
    assert response.status_code == 302
    assert Ticket.objects.get().attachments.get().file.read() == b"\x89PNG\x00\x00\x00"
