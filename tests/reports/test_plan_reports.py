"""The plan's `reports:` section (docs/plans.md): checked with file, key path and line, loaded
into the service's report schedule, exported back the same."""

import io

import pytest
from django.core.management import call_command

from reports.models import ReportSchedule
from sla.models import Service
from sla.plan.export import service_export_tree
from tests.sla.test_plan_validation import assert_error, load_failing, plan_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("section", "path", "line", "fragment"),
    [
        (
            "reports:\n  to: [Lead, Sponsor]\n",
            "reports.to[1]",
            48,
            "'Sponsor' is not a role of escalation.management_chain",
        ),
        ("reports:\n  every: [weekly]\n", "reports.every[0]", 48, "use one of monthly, quarterly"),
        ("reports:\n  every: []\n", "reports.every", 48, "name at least one period"),
        ("reports:\n  contract_holders: maybe\n", "reports.contract_holders", 48, ""),
        ("reports:\n  cc: [x@example.com]\n", "reports.cc", 48, ""),
    ],
)
def test_bad_reports_section_is_refused(tmp_path, section, path, line, fragment):
    file, output = load_failing(tmp_path, plan_text(append=section))
    assert_error(output, file, path, line, fragment)


def test_loaded_and_exported(tmp_path):
    plan = tmp_path / "demo.yaml"
    plan.write_text(
        plan_text(append="reports:\n  every: [quarterly]\n  to: [Lead]\n  contract_holders: true\n")
    )
    call_command("load_plan", str(plan), stdout=io.StringIO())
    schedule = ReportSchedule.objects.get(service__slug="demo")
    assert (schedule.monthly, schedule.quarterly, schedule.roles, schedule.contract_holders) == (
        False,
        True,
        ["Lead"],
        True,
    )
    assert service_export_tree(service=Service.objects.get(slug="demo"))["reports"] == {
        "every": ["quarterly"],
        "to": ["Lead"],
        "contract_holders": True,
    }
    plan.write_text(plan_text())
    call_command("load_plan", str(plan), stdout=io.StringIO())
    assert not ReportSchedule.objects.exists()
