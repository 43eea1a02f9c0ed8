"""The shipped plans/*.yaml hold the seeds' SLA figures (shared/seeds/*.txt)."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from sla.models import Calendar, Priority, Service, ServiceTargets, SupportContract, Tier

PLANS = Path(__file__).resolve().parents[2] / "plans"


@pytest.fixture
def loaded(db):
    out = io.StringIO()
    call_command("load_plan", *sorted(str(path) for path in PLANS.glob("*.yaml")), stdout=out)
    return out.getvalue()


def priorities(slug):
    return {
        p.code: p for p in Priority.objects.filter(service__slug=slug).select_related("calendar")
    }


def test_all_three_seed_plans_load(loaded):
    """Each seed plan loads, with one summary line per service."""
    assert set(Service.objects.values_list("slug", flat=True)) == {
        "xsafe-erp",
        "legacy-estate-os",
        "roofing-platform",
    }
    for slug in ("xsafe-erp", "legacy-estate-os", "roofing-platform"):
        assert f"{slug}: created " in loaded


def test_xsafe_priorities(loaded):
    """XSafe: P0 15 min / 4 h / 99.99 %, P1 1 h / 8 h, P2 4 h / 2 d, P3 24 h / 5 d / no uptime."""
    found = priorities("xsafe-erp")
    table = {code: (p.response, p.resolution, p.uptime) for code, p in found.items()}
    assert table == {
        "P0": ("15m", "4h", Decimal("99.99")),
        "P1": ("1h", "8h", Decimal("99.9")),
        "P2": ("4h", "2d", Decimal("99.5")),
        "P3": ("24h", "5d", None),
    }
    assert [p.code for p in Priority.objects.filter(service__slug="xsafe-erp")] == [
        "P0",
        "P1",
        "P2",
        "P3",
    ]
    assert all(p.calendar.name == "24/7" for p in found.values())


def test_xsafe_tiers_and_recovery(loaded):
    """XSafe: Helpdesk → Dev Team → SRE on call; RTO 1 h, RPO 5 min."""
    tiers = list(Tier.objects.filter(service__slug="xsafe-erp"))
    assert [(t.level, t.name, t.on_call) for t in tiers] == [
        (1, "Helpdesk", False),
        (2, "Dev Team", False),
        (3, "SRE / Architects", True),
    ]
    assert tiers[0].contact == "support@xsafe.com"
    targets = ServiceTargets.objects.get(service__slug="xsafe-erp")
    assert (targets.rto, targets.rpo) == ("1h", "5m")


def test_legacy_priorities_p3_has_no_resolution_timer(loaded):
    """Legacy: P0 15 min / 4 h … P2 4 h / 48 h; P3 resolves "next release": no timer."""
    found = priorities("legacy-estate-os")
    assert {code: (p.response, p.resolution) for code, p in found.items()} == {
        "P0": ("15m", "4h"),
        "P1": ("1h", "8h"),
        "P2": ("4h", "48h"),
        "P3": ("24h", ""),
    }


def test_legacy_escalation_on_call_incidents(loaded):
    """Legacy: Tech Lead → PM → Sponsor; weekly primary/secondary on call; post-mortem in 48 h."""
    service = Service.objects.get(slug="legacy-estate-os")
    policy = service.escalation_policy
    assert policy.management_chain == ["Tech Lead", "Project Manager", "Sponsor"]
    assert policy.on_call_layers == ["primary", "secondary"]
    assert policy.on_call_handoff == "mon 09:00"
    assert service.incident_policy.postmortem_due == "48h"
    assert service.incident_policy.steps == ["detect", "triage", "communicate", "resolve", "review"]


def test_legacy_contracts_and_targets(loaded):
    """Legacy: Basic/Standard/Premium at 20/40/80 h for $5,000/$10,000/$18,000; 99.9 % uptime."""
    contracts = SupportContract.objects.filter(service__slug="legacy-estate-os")
    assert [(c.name, c.hours_per_month, c.monthly_cost, c.currency) for c in contracts] == [
        ("Basic", 20, Decimal("5000"), "USD"),
        ("Standard", 40, Decimal("10000"), "USD"),
        ("Premium", 80, Decimal("18000"), "USD"),
    ]
    targets = ServiceTargets.objects.get(service__slug="legacy-estate-os")
    assert (targets.uptime, targets.rto, targets.rpo) == (Decimal("99.9"), "4h", "1h")


def test_roofing_priorities_response_times(loaded):
    """Roofing: P1–P4 respond within 15 min, 1 h, 4 h, 24 h; P1 starts at the 24/7 Tier 3."""
    found = priorities("roofing-platform")
    assert {code: p.response for code, p in found.items()} == {
        "P1": "15m",
        "P2": "1h",
        "P3": "4h",
        "P4": "24h",
    }
    assert found["P1"].start_tier == 3
    assert found["P1"].notify_management


def test_roofing_tiers_business_hours(loaded):
    """Roofing: Tier 1 works 9 AM–6 PM Eastern on weekdays, picks up in 4 h; Tier 3 picks up
    in 1 business hour and is on call (critical tickets are held 24/7 by P1's own calendar)."""
    tiers = {t.level: t for t in Tier.objects.filter(service__slug="roofing-platform")}
    calendar = tiers[1].calendar
    assert calendar.timezone == "America/New_York"
    assert calendar.hours == {
        day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
    }
    assert (tiers[1].pickup, tiers[2].pickup, tiers[3].pickup) == ("4h", "2h", "1h")
    assert tiers[3].calendar.name == "business-hours" and tiers[3].on_call


def test_roofing_targets(loaded):
    """Roofing: 99.9 % uptime, MTTR 4 h, MTBF 720 h, 95 % resolved, CSAT 4.5, 4 h first response."""
    targets = ServiceTargets.objects.get(service__slug="roofing-platform")
    assert targets.uptime == Decimal("99.9")
    assert (targets.mttr, targets.mtbf, targets.first_response_avg) == ("4h", "720h", "4h")
    assert targets.resolution_rate == Decimal("95")
    assert targets.csat == Decimal("4.5")
    assert (targets.p95_response_ms, targets.concurrent_users) == (500, 2000)
    assert targets.error_rate == Decimal("0.1")
    assert [r["name"] for r in targets.recovery] == ["Critical", "Important", "Standard"]


def test_every_service_has_an_always_open_calendar(loaded):
    """Each service gets a "24/7" calendar open all week, whatever its file defines."""
    for service in Service.objects.all():
        calendar = Calendar.objects.get(service=service, name="24/7")
        assert calendar.hours["sun"] == [["00:00", "24:00"]]
        assert len(calendar.hours) == 7
