"""load_plan is idempotent, updates what an edited file changes, and retires what it drops."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maintenance.models import MaintenancePolicy, MaintenanceWindow
from routine.models import RoutineTask
from sla.models import (
    Calendar,
    EscalationPolicy,
    Holiday,
    Priority,
    Service,
    ServiceTargets,
    SupportContract,
    Tier,
)
from tests.factories import TicketFactory
from tickets.models import Ticket

PLANS = Path(__file__).resolve().parents[2] / "plans"
SEEDS = sorted(str(path) for path in PLANS.glob("*.yaml"))
MODELS = (
    Service,
    Calendar,
    Holiday,
    Priority,
    Tier,
    EscalationPolicy,
    SupportContract,
    ServiceTargets,
    MaintenancePolicy,
    MaintenanceWindow,
    RoutineTask,
)


def load(*files):
    out = io.StringIO()
    call_command("load_plan", *files, stdout=out)
    return out.getvalue()


def snapshot():
    """Every column of every plan row (``updated_at`` included), by model."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


@pytest.mark.django_db
def test_loading_twice_writes_nothing():
    """The second load of the same files reports no change and issues no INSERT/UPDATE/DELETE."""
    load(*SEEDS)
    before = snapshot()
    with CaptureQueriesContext(connection) as queries:
        output = load(*SEEDS)
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert output.splitlines() == [
        "legacy-estate-os: created 0, updated 0, retired 0",
        "roofing-platform: created 0, updated 0, retired 0",
        "xsafe-erp: created 0, updated 0, retired 0",
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_first_load_reports_created_rows():
    """The summary counts every row the first load creates."""
    output = load(str(PLANS / "xsafe-erp.yaml"))
    # service, 24/7 calendar, 4 priorities, 3 tiers, escalation, targets,
    # maintenance policy, 1 window, 9 routine tasks (the seed's six and its daily backup,
    # WAL and S3 checks), 2 paging destinations
    assert output.strip() == "xsafe-erp: created 24, updated 0, retired 0"


@pytest.fixture
def xsafe(tmp_path):
    path = tmp_path / "xsafe-erp.yaml"
    path.write_text((PLANS / "xsafe-erp.yaml").read_text())
    load(str(path))
    return path


@pytest.mark.django_db
def test_edited_priority_is_updated(xsafe):
    """Changing a priority's target updates that row only."""
    xsafe.write_text(xsafe.read_text().replace("response: 1h\n", "response: 2h\n", 1))
    untouched = Priority.objects.get(code="P0").updated_at
    output = load(str(xsafe))
    assert output.strip() == "xsafe-erp: created 0, updated 1, retired 0"
    assert Priority.objects.get(code="P1").response == "2h"
    assert Priority.objects.get(code="P0").updated_at == untouched


@pytest.mark.django_db
def test_removed_priority_is_retired_and_its_tickets_keep_working(xsafe):
    """A priority dropped from the file is retired, not deleted; its tickets keep it."""
    service = Service.objects.get(slug="xsafe-erp")
    p3 = Priority.objects.get(service=service, code="P3")
    ticket = TicketFactory(service=service, priority=p3)
    text = xsafe.read_text()
    start = text.index("  - code: P3")
    end = text.index("tiers:")
    xsafe.write_text(text[:start] + text[end:])

    output = load(str(xsafe))

    assert output.strip() == "xsafe-erp: created 0, updated 0, retired 1"
    p3.refresh_from_db()
    assert p3.retired_at is not None
    ticket = Ticket.objects.select_related("priority").get(pk=ticket.pk)
    assert ticket.priority.code == "P3"
    assert ticket.priority.resolution == "5d"
    # Loading again changes nothing; restoring the file brings the priority back.
    assert load(str(xsafe)).strip() == "xsafe-erp: created 0, updated 0, retired 0"
    xsafe.write_text(text)
    assert load(str(xsafe)).strip() == "xsafe-erp: created 0, updated 1, retired 0"
    p3.refresh_from_db()
    assert p3.retired_at is None


@pytest.mark.django_db
def test_calendar_added_then_removed(xsafe):
    """A calendar, its holidays and a tier using it come and go with the file."""
    text = xsafe.read_text()
    with_calendar = text.replace(
        "priorities:",
        "calendars:\n  office:\n    timezone: Europe/Berlin\n    hours:\n"
        '      mon-fri: "09:00-17:00"\n    holidays: [2026-12-25, {date: 2026-12-26, '
        "name: Boxing Day}]\n\npriorities:",
        1,
    ).replace(
        "    contact: support@xsafe.com\n  - level: 2",
        "    contact: support@xsafe.com\n    calendar: office\n  - level: 2",
        1,
    )
    xsafe.write_text(with_calendar)
    assert load(str(xsafe)).strip() == "xsafe-erp: created 3, updated 1, retired 0"
    office = Calendar.objects.get(name="office")
    assert office.hours["fri"] == [["09:00", "17:00"]] and "sat" not in office.hours
    assert list(office.holidays.values_list("name", flat=True)) == ["", "Boxing Day"]
    assert Tier.objects.get(level=1).calendar == office

    xsafe.write_text(text)
    # The calendar goes (its holidays with it) and tier 1 falls back to 24/7.
    assert load(str(xsafe)).strip() == "xsafe-erp: created 0, updated 1, retired 1"
    assert not Calendar.objects.filter(name="office").exists()
    assert Tier.objects.get(level=1).calendar.name == "24/7"


@pytest.mark.django_db
def test_removed_tier_contract_and_targets_go(tmp_path):
    """A tier, a contract or the targets section dropped from the file are removed."""
    path = tmp_path / "legacy.yaml"
    text = (PLANS / "legacy-estate-os.yaml").read_text()
    path.write_text(text)
    load(str(path))
    start = text.index("  - name: Premium")
    end = text.index("targets:")
    edited = text[:start] + text[end:]
    edited = edited[: edited.index("targets:")]
    path.write_text(edited)
    assert load(str(path)).strip() == "legacy-estate-os: created 0, updated 0, retired 2"
    assert list(SupportContract.objects.values_list("name", flat=True)) == ["Basic", "Standard"]
    assert not ServiceTargets.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_loads_at_once_take_turns():
    """Two deploys loading the same new plans at the same moment: both succeed, once each
    service, instead of one failing on the other's insert."""
    from tests.concurrency import run_together

    results = run_together(lambda: load(*SEEDS), lambda: load(*SEEDS))
    assert len(results) == 2
    assert Service.objects.count() == len(SEEDS)
    # One of the two created everything; the other found it all in place.
    assert any("created 0, updated 0, retired 0" in output for output in results)
