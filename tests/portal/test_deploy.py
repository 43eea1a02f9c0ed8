"""Production settings: secure by default, and refusing to start when misconfigured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    """`manage.py check --deploy` reports no warning with DEBUG off and a real secret."""
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY="x7#Qm2$Lp9!vR4&tZ8*wN1@kB6^hJ3%cF5(dG0)yS-aE+uT=iO_pW/zX.nM,bV",
        ALLOWED_HOSTS="support.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    """With DEBUG off there is no default SECRET_KEY."""
    result = _run(["check"])
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("hosts", ["support.example.com", "127.0.0.1,portal.example.org"])
def test_debug_refuses_a_public_host(hosts):
    """DEBUG on a public host would leak tracebacks and settings: refused at start."""
    result = _run(["check"], DEBUG="true", ALLOWED_HOSTS=hosts)
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_debug_on_localhost_starts_with_development_defaults():
    result = _run(["check"], DEBUG="true")
    assert result.returncode == 0, result.stderr
