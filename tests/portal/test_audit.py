"""`make audit` (scripts/audit.py) checks the locked pins against an offline OSV snapshot:
it names each vulnerable pin and fails, passes a clean lock, and says it could not check
(exit 2) rather than pass when the snapshot is unusable."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ADVISORY = """\
id: PYSEC-2099-1
summary: Made-up injection in QuerySet.example()
aliases: [CVE-2099-0001]
affected:
- package: {ecosystem: PyPI, name: Django}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "5.0"}, {fixed: "5.2.20"}]
"""


def audit(tmp_path, snapshot, *pins):
    lock = tmp_path / "requirements.txt"
    lock.write_text("".join(f"{pin} \\\n    --hash=sha256:{'0' * 64}\n" for pin in pins))
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "audit.py"), str(lock)],
        env={"AUDIT_DB": str(snapshot), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def snapshot(tmp_path):
    """A PyPA advisory-database layout (YAML) beside an OSV export record (JSON)."""
    folder = tmp_path / "advisories"
    (folder / "vulns" / "django").mkdir(parents=True)
    (folder / "vulns" / "django" / "PYSEC-2099-1.yaml").write_text(ADVISORY)
    (folder / "GHSA-0000-0000-0000.json").write_text(
        json.dumps(
            {
                "id": "GHSA-0000-0000-0000",
                "affected": [
                    {"package": {"ecosystem": "PyPI", "name": "pyyaml"}, "versions": ["6.0.3"]}
                ],
            }
        )
    )
    return folder


def test_a_vulnerable_pin_is_named_and_fails(tmp_path, snapshot):
    run = audit(tmp_path, snapshot, "Django==5.2.19", "PyYAML==6.0.4")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Django 5.2.19: PYSEC-2099-1 (CVE-2099-0001), fixed in 5.2.20" in run.stdout
    assert "PyYAML" not in run.stdout


def test_a_zipped_snapshot_works_the_same(tmp_path, snapshot):
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in snapshot.rglob("*.*"):
            zipped.write(file, file.name)
    run = audit(tmp_path, archive, "pyyaml==6.0.3")
    assert run.returncode == 1
    assert "pyyaml 6.0.3: GHSA-0000-0000-0000" in run.stdout


def test_fixed_and_unaffected_pins_pass(tmp_path, snapshot):
    run = audit(tmp_path, snapshot, "Django==5.2.20", "PyYAML==6.0.4", "celery==5.5.3")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no known vulnerabilities" in run.stdout


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_an_unusable_snapshot_is_could_not_check_not_clean(tmp_path, kind):
    snapshot = tmp_path / kind
    if kind == "empty":
        snapshot.mkdir()
    run = audit(tmp_path, snapshot, "Django==5.2.19")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "could not check" in run.stdout
