"""An exported plan loads back to the same state (round trip through the admin's export)."""

import io
import zipfile
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from sla.models import Service
from sla.plan import parse_plan, read_plan
from sla.plan.export import service_export_yaml

PLANS = Path(__file__).resolve().parents[2] / "plans"
SEEDS = sorted(PLANS.glob("*.yaml"))


def load(*files):
    out = io.StringIO()
    call_command("load_plan", *map(str, files), stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", SEEDS, ids=[path.stem for path in SEEDS])
def test_export_round_trip(seed, tmp_path):
    """Seed → load → export: the export validates to the same plan, reloading it changes nothing,
    and loaded into an empty database it exports byte for byte the same again."""
    load(seed)
    service = Service.objects.get(slug=read_plan(seed).service.slug)
    exported = service_export_yaml(service=service)

    assert parse_plan(exported, "export.yaml") == read_plan(seed)

    path = tmp_path / f"{service.slug}.yaml"
    path.write_text(exported)
    assert load(path) == f"{service.slug}: created 0, updated 0, retired 0"

    service.delete()  # no tickets here, so the whole service can go
    assert load(path).startswith(f"{service.slug}: created ")
    again = service_export_yaml(service=Service.objects.get(slug=service.slug))
    assert again == exported


@pytest.mark.django_db
def test_export_leaves_out_retired_rows(tmp_path):
    """Retired priorities are not exported, so the export loads to the active plan."""
    text = (PLANS / "xsafe-erp.yaml").read_text()
    path = tmp_path / "xsafe.yaml"
    path.write_text(text)
    load(path)
    path.write_text(text[: text.index("  - code: P3")] + text[text.index("tiers:") :])
    load(path)
    tree = yaml.safe_load(service_export_yaml(service=Service.objects.get(slug="xsafe-erp")))
    assert [p["code"] for p in tree["priorities"]] == ["P0", "P1", "P2"]


@pytest.mark.django_db
def test_admin_export_action(admin_client):
    """The "Export plan" action downloads one YAML file, or a zip of several."""
    load(*SEEDS)
    xsafe = Service.objects.get(slug="xsafe-erp")
    response = admin_client.post(
        "/admin/sla/service/", {"action": "export_plan", "_selected_action": [xsafe.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="xsafe-erp.yaml"'
    assert parse_plan(response.content.decode(), "x.yaml") == read_plan(PLANS / "xsafe-erp.yaml")

    response = admin_client.post(
        "/admin/sla/service/",
        {
            "action": "export_plan",
            "_selected_action": list(Service.objects.values_list("pk", flat=True)),
        },
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "legacy-estate-os.yaml",
        "roofing-platform.yaml",
        "xsafe-erp.yaml",
    ]
