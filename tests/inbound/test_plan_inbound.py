"""The plan's ``service.inbound``: more addresses whose mail opens tickets of the service."""

import io

import pytest
from django.core.management import CommandError, call_command

from inbound.models import InboundMessage
from inbound.services import inbound_receive
from sla.models import Service
from sla.plan import parse_plan
from sla.plan.export import service_export_yaml
from tests import factories

from .conftest import make_mail

pytestmark = pytest.mark.django_db

PLAN = """\
service:
  slug: roof
  name: Roofing platform
  contact: support@roof.example
  inbound: [security@roof.example, Help@Roof.example]
priorities:
  - code: P1
    name: High
    response: 1h
tiers:
  - level: 1
    name: Helpdesk
"""


def load(tmp_path, text):
    path = tmp_path / "roof.yaml"
    path.write_text(text)
    call_command("load_plan", str(path), stdout=io.StringIO())


def test_mail_to_an_inbound_address_opens_a_ticket_of_that_service(tmp_path):
    load(tmp_path, PLAN)
    service = Service.objects.get(slug="roof")
    assert service.inbound == ["security@roof.example", "Help@Roof.example"]
    factories.CustomerFactory(email="ann@client.example", services=[service])
    raw = make_mail(sender="ann@client.example", to="help@roof.example")
    message = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE).message
    assert message.outcome == InboundMessage.Outcome.TICKET_OPENED
    assert message.ticket.service == service


def test_an_inbound_entry_that_is_not_an_address_refuses_the_plan(tmp_path, capsys):
    """Refused whole, naming the key path and line, like any other mistake in a plan."""
    with pytest.raises(CommandError):
        load(tmp_path, PLAN.replace("security@roof.example", "not-an-address"))
    assert "service.inbound[0] (line 5): 'not-an-address' is not an email address" in (
        capsys.readouterr().err
    )
    assert not Service.objects.exists()


def test_inbound_survives_an_export_round_trip(tmp_path):
    load(tmp_path, PLAN)
    exported = service_export_yaml(service=Service.objects.get(slug="roof"))
    plan = parse_plan(exported, "export.yaml")
    assert plan.service.inbound == ("security@roof.example", "Help@Roof.example")
