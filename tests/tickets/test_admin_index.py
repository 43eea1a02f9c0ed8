"""The admin reads for the work: tickets first, one "Routine tasks" section, no two headings
alike; service settings with real widgets; staff signing in on the portal land in the admin."""

import re

import pytest
from django.urls import reverse

from sla.models import EscalationPolicy
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def sections(page):
    """``[(app label, heading, [model names])]`` of the index, in page order."""
    found = []
    blocks = re.findall(
        r'<div class="app-(\w+) module.*?<caption>\s*<a[^>]*>([^<]+)</a>(.*?)</table>', page, re.S
    )
    for label, heading, body in blocks:
        models = re.findall(r'<th scope="row"[^>]*>\s*<a [^>]*>([^<]+)</a>', body)
        found.append((label, heading.strip(), models))
    return found


def test_tickets_come_first_and_routine_tasks_are_one_section(client, superuser):
    """Tickets lead; the routine task definitions sit with the checklist under one heading."""
    client.force_login(superuser)
    index = sections(client.get(reverse("admin:index")).content.decode())
    labels = [label for label, _, _ in index]
    assert labels[0] == "tickets"
    assert labels.index("incidents") < labels.index("sla")
    routine = [(heading, models) for label, heading, models in index if "Routine" in heading]
    assert len(routine) == 1
    heading, models = routine[0]
    assert heading == "Routine tasks"
    assert "Task definitions (what, how often)" in models
    assert "Checklist (dated items)" in models
    maintenance = next(models for label, _, models in index if label == "maintenance")
    assert not any("Routine" in name or "Task" in name for name in maintenance)


def test_no_two_headings_or_entries_read_alike(client, superuser):
    """No section heading equals another, or an entry of another section, ignoring case
    ("Support contracts" the SLA model vs "SUPPORT CONTRACTS" the contracts section)."""
    client.force_login(superuser)
    index = sections(client.get(reverse("admin:index")).content.decode())
    headings = [heading.casefold() for _, heading, _ in index]
    assert len(headings) == len(set(headings))
    for label, heading, _ in index:
        elsewhere = {
            name.casefold() for other, _, models in index if other != label for name in models
        }
        assert heading.casefold() not in elsewhere, heading


def test_the_sidebar_follows_the_same_order(client, superuser, ticket):
    """The navigation sidebar beside a changelist lists Tickets first too."""
    client.force_login(superuser)
    page = client.get(reverse("admin:sla_service_changelist")).content.decode()
    sidebar = page[page.index('id="nav-sidebar"') :]
    assert sections(sidebar)[0][0] == "tickets"


def test_escalation_policy_is_edited_with_checkboxes_and_percent(client, superuser, service):
    """Pause statuses are checkboxes of ticket statuses (no JSON box); the warning reads "%"
    on the form and in the list; saving stores the chosen statuses."""
    policy = EscalationPolicy.objects.create(
        service=service, warn_at=75, pause_statuses=["waiting_on_customer"]
    )
    client.force_login(superuser)
    url = reverse("admin:sla_escalationpolicy_change", args=[policy.pk])
    page = client.get(url).content.decode()
    assert re.search(
        r'<input type="checkbox" name="pause_statuses" value="waiting_on_customer"'
        r"[^>]*checked",
        page,
    )
    assert 'value="open"' in page and "Waiting on customer" in page
    assert '<textarea name="pause_statuses"' not in page
    assert re.search(r'<input type="number" name="warn_at"[^>]*> %', page)
    listing = client.get(reverse("admin:sla_escalationpolicy_changelist")).content.decode()
    assert "75 %" in listing

    response = client.post(
        url,
        {
            "service": service.pk,
            "warn_at": "80",
            "pause_statuses": ["new", "waiting_on_customer"],
            "management_chain": "[]",
            "management_interval": "",
            "on_call_handoff": "",
            "on_call_layers": "[]",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.pause_statuses == ["new", "waiting_on_customer"]


def test_service_time_zone_is_a_select_of_real_zones(client, superuser, service):
    """A select, common zones first, no aliases such as "Factory" or "localtime"."""
    client.force_login(superuser)
    page = client.get(reverse("admin:sla_service_change", args=[service.pk])).content.decode()
    select = page[
        page.index('<select name="timezone"') : page.index(
            "</select>", page.index('<select name="timezone"')
        )
    ]
    assert '<optgroup label="Common">' in select
    assert 'value="Europe/Berlin"' in select
    assert 'value="Factory"' not in select and 'value="localtime"' not in select


def test_staff_signing_in_on_the_portal_land_in_the_admin(client, tier1_staff):
    """The portal's log-in sends staff to /admin/ (customers still go home)."""
    response = client.post(reverse("login"), {"username": tier1_staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_customers_still_land_on_their_dashboard_and_next_is_kept(client, customer, tier1_staff):
    """Only the default changes: a customer goes home; a ``next`` is followed for anyone."""
    response = client.post(reverse("login"), {"username": customer.email, "password": PASSWORD})
    assert response["Location"] == reverse("home")
    client.logout()
    response = client.post(
        reverse("login") + "?next=/maintenance/",
        {"username": tier1_staff.email, "password": PASSWORD},
    )
    assert response["Location"] == "/maintenance/"
