"""`targets` values may lead with the operator the plan words them with (plan-format.md):
"<4h", ">95", ">=99.9". < and > are strict and stored as such; a wrong-way or unattainable
operator is refused with file, key path and line."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sla.models import ServiceTargets
from sla.plan import parse_plan

PLANS = Path(__file__).resolve().parents[2] / "plans"

PLAN = """\
service:
  slug: demo
  name: Demo
priorities:
  - {code: P1, name: High, response: 1h}
tiers:
  - {level: 1, name: Helpdesk}
targets:
"""


def targets_of(text):
    return parse_plan(PLAN + text, "demo.yaml").targets


def test_strict_operators_are_kept_and_bare_or_inclusive_ones_are_not():
    """`mttr: "<4h"`, `resolution_rate: ">95"`, `csat: ">4.5"` are strict; `uptime: ">=99.9"`
    and a bare `mtbf: 720h` are not, and equal their bare forms."""
    spec = targets_of(
        '  mttr: "<4h"\n  resolution_rate: ">95"\n  csat: ">4.5"\n'
        '  uptime: ">=99.9"\n  mtbf: 720h\n  p95_response_ms: "<500"\n'
    )
    assert spec.strict == ("csat", "mttr", "p95_response_ms", "resolution_rate")
    assert (spec.mttr, str(spec.resolution_rate), str(spec.csat)) == ("4h", "95", "4.5")
    assert (str(spec.uptime), spec.mtbf, spec.p95_response_ms) == ("99.9", "720h", 500)
    assert targets_of("  uptime: 99.9\n") == targets_of('  uptime: ">=99.9"\n')


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('  mttr: ">4h"\n', "would make a worse mttr a success"),
        ('  resolution_rate: "<95"\n', "would make a worse resolution_rate a success"),
        ('  uptime: ">100"\n', "can never be met"),
        ('  error_rate: "<0"\n', "can never be met"),
        ('  csat: ">"\n', "a value must follow"),
    ],
)
def test_wrong_way_and_unattainable_targets_are_refused(tmp_path, line, fragment):
    path = tmp_path / "demo.yaml"
    path.write_text(PLAN + line)
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command("load_plan", str(path), stdout=io.StringIO(), stderr=stderr)
    key = line.split(":")[0].strip()
    assert f"demo.yaml: targets.{key} (line 9): " in stderr.getvalue()
    assert fragment in stderr.getvalue()


@pytest.mark.django_db
def test_seed_targets_are_stored_as_worded():
    """Roofing's "MTTR <4 hours", "MTBF >720 hours", "<4 hours average", ">95%", ">4.5/5",
    "<500ms", "<0.1%" and Legacy's "RPO < 1 hour" / "RTO < 4 hours" are strict; their bare
    99.9 % uptimes and XSafe's RTO 1 hour / RPO 5 minutes are not."""
    call_command("load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO())
    strict = dict(ServiceTargets.objects.values_list("service__slug", "strict"))
    assert sorted(strict["roofing-platform"]) == [
        "csat",
        "error_rate",
        "first_response_avg",
        "mtbf",
        "mttr",
        "p95_response_ms",
        "resolution_rate",
    ]
    assert sorted(strict["legacy-estate-os"]) == ["rpo", "rto"]
    assert strict["xsafe-erp"] == []
    legacy = ServiceTargets.objects.get(service__slug="legacy-estate-os")
    assert (legacy.worded("rto"), legacy.worded("rpo"), legacy.worded("uptime")) == (
        "<4h",
        "<1h",
        legacy.uptime,
    )
