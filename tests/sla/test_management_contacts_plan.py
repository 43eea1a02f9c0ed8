"""Management contacts from the plan: a chain entry `{role, email}` is a `ManagementContact` the
plan owns from the first load, so a breach reaches a person before staff add anyone. A reload
replaces the plan's own rows to match the file and keeps the ones staff added in admin."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from notifications.models import Notification
from sla.models import ManagementContact, Service
from sla.plan import PlanInvalid, parse_plan
from sla.plan.export import service_export_yaml
from tests import factories
from tickets import services
from tickets.escalation import escalate_lapsed_tickets

pytestmark = pytest.mark.django_db

PLAN = """\
service:
  slug: chain
  name: Chain
priorities:
  - {code: P1, name: Critical, response: 15m, resolution: 1h, notify_management: true}
tiers:
  - {level: 1, name: Helpdesk}
escalation:
  management_chain:
    - {role: Tech Lead, email: %s}
    - Sponsor
  management_interval: 1h
"""


def load(tmp_path, lead="lead@example.com"):
    path = tmp_path / "chain.yaml"
    path.write_text(PLAN % lead)
    out = io.StringIO()
    call_command("load_plan", str(path), stdout=out)
    return out.getvalue().strip()


def contacts():
    return sorted(
        ManagementContact.objects.values_list("role", "email", "from_plan").order_by("id")
    )


def test_chain_entries_with_an_email_become_the_plans_contacts(tmp_path):
    load(tmp_path)
    service = Service.objects.get(slug="chain")
    assert service.escalation_policy.management_chain == ["Tech Lead", "Sponsor"]
    assert contacts() == [("Tech Lead", "lead@example.com", True)]


def test_a_reload_writes_nothing_and_keeps_contacts_staff_added(tmp_path):
    """Staff add the Sponsor in admin; loading the same file again changes nothing."""
    load(tmp_path)
    service = Service.objects.get(slug="chain")
    ManagementContact.objects.create(service=service, role="Sponsor", email="s@example.com")
    assert load(tmp_path) == "chain: created 0, updated 0, retired 0"
    assert contacts() == [
        ("Sponsor", "s@example.com", False),
        ("Tech Lead", "lead@example.com", True),
    ]


def test_an_edited_address_replaces_the_plans_row_only(tmp_path):
    load(tmp_path)
    service = Service.objects.get(slug="chain")
    ManagementContact.objects.create(service=service, role="Tech Lead", email="deputy@example.com")
    assert load(tmp_path, lead="new-lead@example.com") == "chain: created 1, updated 0, retired 1"
    assert contacts() == [
        ("Tech Lead", "deputy@example.com", False),
        ("Tech Lead", "new-lead@example.com", True),
    ]


def test_a_breach_reaches_the_plans_contact_from_the_first_load(tmp_path):
    """P1 opened 09:00, resolution 1 h: at 10:00 the Tech Lead of the file is emailed, with no
    contact added by staff."""
    load(tmp_path)
    service = Service.objects.get(slug="chain")
    customer = factories.CustomerFactory(services=[service])
    opened = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(opened, tick=False):
        services.ticket_create(
            customer=customer, service=service, priority="P1", subject="Down", description="All"
        )
    escalate_lapsed_tickets(now=opened + timedelta(hours=1))
    assert Notification.objects.filter(to="lead@example.com").count() == 1


def test_the_export_writes_the_contacts_back_into_the_chain(tmp_path):
    load(tmp_path)
    exported = service_export_yaml(service=Service.objects.get(slug="chain"))
    assert parse_plan(exported, "x.yaml") == parse_plan(PLAN % "lead@example.com", "chain.yaml")
    assert "email: lead@example.com" in exported


@pytest.mark.parametrize(
    ("chain", "fragment"),
    [
        ("[Lead, Lead]", "duplicate role 'Lead'"),
        ("[{role: Lead}]", "missing required key 'email'"),
        ("[{role: Lead, email: not-an-address}]", "is not an email address"),
    ],
)
def test_bad_chain_entries_are_refused(chain, fragment):
    text = PLAN.split("escalation:")[0] + f"escalation:\n  management_chain: {chain}\n"
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(text, "bad.yaml")
    assert fragment in str(caught.value)
    assert "escalation.management_chain" in str(caught.value)
