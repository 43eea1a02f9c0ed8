"""`service.phone` (plan-format.md): the support line a plan shows customers is loaded,
checked and exported back."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from sla.models import Service
from sla.plan import PlanInvalid, parse_plan
from sla.plan.export import service_export_yaml

PLANS = Path(__file__).resolve().parents[2] / "plans"

PLAN = """\
service:
  slug: demo
  name: Demo
  phone: %s
priorities:
  - {code: P1, name: High, response: 1h}
tiers:
  - {level: 1, name: Helpdesk}
"""


@pytest.mark.django_db
def test_roofings_emergency_phone_is_its_support_line():
    call_command("load_plan", str(PLANS / "roofing-platform.yaml"), stdout=io.StringIO())
    service = Service.objects.get(slug="roofing-platform")
    assert service.phone == "1-800-ROOF-SUPPORT"
    assert "phone: 1-800-ROOF-SUPPORT" in service_export_yaml(service=service)


@pytest.mark.parametrize("number", ['"+1 (555) 123-4567"', "1-800-ROOF-SUPPORT"])
def test_phone_numbers_as_people_write_them_are_accepted(number):
    assert parse_plan(PLAN % number, "demo.yaml").service.phone == number.strip('"')


@pytest.mark.parametrize(
    ("number", "fragment"),
    [("call-us", "is not a phone number"), ('"<script>"', "is not a phone number")],
)
def test_a_phone_that_is_not_a_number_is_refused_with_its_place(number, fragment):
    with pytest.raises(PlanInvalid) as caught:
        parse_plan(PLAN % number, "demo.yaml")
    assert "demo.yaml: service.phone (line 4): " in str(caught.value)
    assert fragment in str(caught.value)
