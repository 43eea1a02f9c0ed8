"""Known vulnerabilities in the locked requirements (`make audit`).

    python scripts/audit.py requirements.txt requirements-dev.txt

Reads the ``name==version`` pins of the lock files and checks them:

- offline, when ``AUDIT_DB`` names a vulnerability database snapshot in OSV format: OSV's PyPI
  export (its ``all.zip``, zipped or unpacked) or a checkout of the PyPA advisory database
  (``vulns/<package>/*.yaml``);
- otherwise online, through pip-audit (PyPI's vulnerability data).

Exit status: 0 no known vulnerability; 1 vulnerabilities found (listed); 2 could not check
(no snapshot and the vulnerability service unreachable, or some pins it could not look up).
pip-audit alone exits 0 when PyPI's JSON API is out of reach ("Dependency not found on PyPI",
"No known vulnerabilities found"): that is reported here as "could not check", never as clean.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
COULD_NOT_CHECK = 2


def read_pins(paths):
    """{canonical name: (name, version)} of every ``name==version`` line of the lock files."""
    pins = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if match := PIN.match(line.strip()):
                name, version = match.groups()
                pins[canonicalize_name(name)] = (name, version)
    return pins


def snapshot_records(path):
    """Every OSV record (a dict) in a directory, or a zip, of .json/.yaml files."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith((".json", ".yaml", ".yml")):
                    yield load_record(name, archive.read(name))
    elif path.is_dir():
        for file in sorted(path.rglob("*")):
            if file.suffix in (".json", ".yaml", ".yml") and file.is_file():
                yield load_record(file.name, file.read_bytes())
    else:
        raise FileNotFoundError(f"AUDIT_DB={path}: not a directory or a zip file")


def load_record(name, data):
    if name.endswith(".json"):
        return json.loads(data)
    return yaml.safe_load(data)


def parse(version):
    try:
        return Version(version)
    except (InvalidVersion, TypeError):
        return None


def in_range(version, events):
    """OSV's rule: walk the events in version order; ``introduced`` opens a range,
    ``fixed`` (exclusive) and ``last_affected`` (inclusive) close it."""

    def key(event):
        value = next(iter(event.values()))
        return Version("0") if value == "0" else (parse(value) or Version("0"))

    affected = False
    for event in sorted(events, key=key):
        kind, value = next(iter(event.items()))
        bound = Version("0") if value == "0" else parse(value)
        if bound is None:
            continue
        if kind == "introduced" and version >= bound:
            affected = True
        elif kind in ("fixed", "last_affected"):
            # ``fixed`` is the first safe version, ``last_affected`` the last unsafe one.
            affected = affected and (version < bound if kind == "fixed" else version <= bound)
    return affected


def fixed_versions(affected):
    return [
        event["fixed"]
        for span in affected.get("ranges", ())
        for event in span.get("events", ())
        if "fixed" in event
    ]


def matches(record, pins):
    """(canonical name, fixed versions) of each pin the record affects."""
    if not record or record.get("withdrawn"):
        return
    for affected in record.get("affected", ()):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI":
            continue
        name = canonicalize_name(package.get("name", ""))
        if name not in pins:
            continue
        version = parse(pins[name][1])
        if version is None:
            continue
        listed = {parse(v) for v in affected.get("versions", ())}
        ranged = any(
            in_range(version, span.get("events", ()))
            for span in affected.get("ranges", ())
            if span.get("type") in ("ECOSYSTEM", "SEMVER")
        )
        if version in listed or ranged:
            yield name, fixed_versions(affected)


def audit_offline(pins, snapshot):
    findings = []
    records = 0
    for record in snapshot_records(snapshot):
        records += 1
        for name, fixed in matches(record, pins):
            aliases = ", ".join(record.get("aliases", ()))
            findings.append((name, record.get("id", "?"), aliases, fixed, record.get("summary")))
    if not records:
        print(f"could not check: AUDIT_DB={snapshot} holds no OSV record")
        return COULD_NOT_CHECK
    print(f"checked {len(pins)} pinned packages against {records} advisories in {snapshot}")
    return report(pins, findings)


def audit_online(pins):
    """pip-audit over the pins (no resolution: the locks are complete). Anything it could not
    look up means the check did not happen."""
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.txt"
        requirements.write_text("".join(f"{n}=={v}\n" for n, v in pins.values()))
        output = Path(folder) / "audit.json"
        command = [sys.executable, "-m", "pip_audit", "--requirement", str(requirements)]
        command += ["--no-deps", "--disable-pip", "--progress-spinner", "off"]
        command += ["--format", "json", "--output", str(output)]
        run = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 (our own argv)
        if not output.exists():
            reason = (run.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"could not check: no network and no snapshot ({reason})")
            print("Set AUDIT_DB to an OSV snapshot to check offline (see scripts/audit.py).")
            return COULD_NOT_CHECK
        result = json.loads(output.read_text())
    findings = []
    skipped = []
    for dependency in result.get("dependencies", ()):
        name = canonicalize_name(dependency["name"])
        if "skip_reason" in dependency:
            skipped.append(name)
        for vuln in dependency.get("vulns", ()):
            aliases = ", ".join(vuln.get("aliases", ()))
            findings.append((name, vuln["id"], aliases, vuln.get("fix_versions", []), None))
    if skipped:
        print(
            f"could not check {len(skipped)} of {len(pins)} pinned packages "
            f"({', '.join(sorted(skipped)[:5])}{' …' if len(skipped) > 5 else ''}): "
            "no network and no snapshot (the vulnerability service could not be reached)."
        )
        print("Set AUDIT_DB to an OSV snapshot to check offline (see scripts/audit.py).")
        status = report(pins, findings) if findings else COULD_NOT_CHECK
        return status
    print(f"checked {len(pins)} pinned packages online (pip-audit)")
    return report(pins, findings)


def report(pins, findings):
    if not findings:
        print("no known vulnerabilities")
        return 0
    for name, vuln_id, aliases, fixed, summary in sorted(findings):
        shown, version = pins[name]
        line = f"{shown} {version}: {vuln_id}"
        line += f" ({aliases})" if aliases else ""
        line += f", fixed in {', '.join(fixed)}" if fixed else ", no fixed version listed"
        line += f" — {summary}" if summary else ""
        print(line)
    print(f"{len(findings)} known vulnerabilities")
    return 1


def main(paths):
    pins = read_pins(paths or ["requirements.txt", "requirements-dev.txt"])
    snapshot = os.environ.get("AUDIT_DB")
    if snapshot:
        try:
            return audit_offline(pins, snapshot)
        except (OSError, ValueError, yaml.YAMLError, zipfile.BadZipFile) as error:
            print(f"could not check: AUDIT_DB={snapshot} unreadable ({error})")
            return COULD_NOT_CHECK
    return audit_online(pins)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
