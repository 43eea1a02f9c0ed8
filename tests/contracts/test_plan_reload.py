"""A plan that drops a contract an organisation holds retires it instead of failing."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from contracts.admin.organizations import OrganizationForm
from sla.models import Service, SupportContract
from tests.contracts.factories import ContractPeriodFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

PLAN = Path(__file__).resolve().parents[2] / "plans" / "legacy-estate-os.yaml"
BASIC = """  - name: Basic
    hours_per_month: 20
    monthly_cost: 5000
    currency: USD
    includes: Bug fixes, monitoring
"""


def _load(path):
    call_command("load_plan", str(path), stdout=io.StringIO())


def test_dropping_a_held_contract_retires_it_and_relisting_restores_it(tmp_path):
    text = PLAN.read_text()
    assert BASIC in text
    _load(PLAN)
    service = Service.objects.get(contracts__name="Basic")
    basic = SupportContract.objects.get(service=service, name="Basic")
    organization = OrganizationFactory(service=service)
    ContractPeriodFactory(organization=organization, contract=basic)

    edited = tmp_path / "legacy.yaml"
    edited.write_text(text.replace(BASIC, ""))
    _load(edited)  # no ProtectedError: exits cleanly

    basic.refresh_from_db()
    assert basic.retired_at is not None
    assert organization.contract_periods.get().contract == basic  # its history is intact
    offered_to_new = OrganizationForm().fields["contract"].queryset
    assert basic not in offered_to_new
    assert SupportContract.objects.get(service=service, name="Standard") in offered_to_new
    # The organisation holding it still sees it, so editing the organisation does not force a
    # change of contract.
    assert basic in OrganizationForm(instance=organization).fields["contract"].queryset

    _load(PLAN)
    basic.refresh_from_db()
    assert basic.retired_at is None


def test_dropping_an_unheld_contract_deletes_it(tmp_path):
    _load(PLAN)
    edited = tmp_path / "legacy.yaml"
    edited.write_text(PLAN.read_text().replace(BASIC, ""))
    _load(edited)
    assert not SupportContract.objects.filter(name="Basic").exists()
