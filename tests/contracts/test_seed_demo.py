"""``seed_demo_contracts``: each demo customer's organisation holds a contract; twice = once."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from contracts.models import ContractPeriod, Organization, OrganizationMember

pytestmark = pytest.mark.django_db

PLANS = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "plans").glob("*.yaml"))


def _seed(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("load_plan", *PLANS, stdout=out)
    call_command("seed_demo", stdout=out)
    call_command("seed_demo_contracts", stdout=out)


def test_demo_customers_get_an_organisation_with_a_contract_once(settings, tier_groups):
    _seed(settings)
    counts = (
        Organization.objects.count(),
        OrganizationMember.objects.count(),
        ContractPeriod.objects.count(),
    )
    assert counts[0] >= 1 and counts[0] == counts[1] == counts[2]
    member = OrganizationMember.objects.select_related("user", "organization").first()
    assert member.user.username.startswith("customer@")
    _seed(settings)
    assert (
        Organization.objects.count(),
        OrganizationMember.objects.count(),
        ContractPeriod.objects.count(),
    ) == counts
