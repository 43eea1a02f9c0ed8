"""load_plan refuses hostile plan files (YAML aliases, control characters) at once, with file,
key path and line, and writes nothing; the seed plans still load."""

import io
import signal
from contextlib import contextmanager

import pytest
from django.core.management import call_command

from sla.models import Service
from tests.sla.test_load_plan import SEEDS
from tests.sla.test_plan_validation import BASE, assert_error, load_failing, plan_text

pytestmark = pytest.mark.django_db


@contextmanager
def deadline(seconds):
    """Fail instead of hanging when the code under test runs away (no timing is asserted)."""

    def expired(signum, frame):
        raise AssertionError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def billion_laughs(levels=9, width=9):
    """A few hundred bytes whose aliases expand to ``width ** levels`` items."""
    lines = ["lol0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"lol{level}: &l{level} [{items}]")
    return BASE + "\n".join(lines) + "\n"


def test_nested_aliases_are_refused_without_expanding_them(tmp_path):
    """A "billion laughs" file (9 levels of 9 aliases, under 1 KB) is refused at its first
    alias with file, key path and line, instead of expanding 9**9 items."""
    text = billion_laughs()
    assert len(text.encode()) - len(BASE) < 1024
    with deadline(30):
        file, output = load_failing(tmp_path, text)
    first_alias_line = BASE.count("\n") + 2
    assert_error(output, file, "lol1[0]", first_alias_line, "YAML aliases (*l0) are not allowed")


def test_a_self_referencing_alias_is_refused(tmp_path):
    """An alias inside its own anchor (a cycle) is an error with its line, not a crash."""
    file, output = load_failing(tmp_path, plan_text(after={2: "  extra: &me [*me]"}))
    assert_error(output, file, "service.extra[0]", 3, "YAML aliases (*me) are not allowed")


def test_a_single_alias_is_refused_too(tmp_path):
    """Plans need no aliases (the seeds use none): even one harmless alias is refused."""
    text = plan_text(replace={23: "    response: *first"}, after={19: "    x-note: &first 1h"})
    file, output = load_failing(tmp_path, text)
    assert_error(output, file, "priorities[2].response", 24, "YAML aliases (*first)")


def test_deep_nesting_is_refused_not_a_crash(tmp_path):
    """Thousands of nested brackets (PyYAML composes recursively) are an error with a line,
    not a RecursionError traceback."""
    file, output = load_failing(tmp_path, BASE + "deep: " + "[" * 5000 + "]" * 5000 + "\n")
    assert output.startswith(f"{file} (line {BASE.count(chr(10)) + 1}): nested more than")


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("escaped", '"De\\0mo"'),  # YAML's own escape for NUL
        ("raw", "De\x00mo"),  # the byte itself in the file
    ],
)
def test_a_nul_in_a_service_name_is_refused_with_its_key_and_line(tmp_path, name, written):
    """A NUL in the service name (PostgreSQL cannot store it) is refused with file, key path
    and line; nothing is written."""
    file, output = load_failing(tmp_path, plan_text(replace={3: f"  name: {written}"}))
    assert_error(output, file, "service.name", 3, "control character U+0000 is not allowed")
    assert "\x00" not in output
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    ("line", "path", "code"),
    [
        ('    name: "Help\\x1b[2Jdesk"', "tiers[0].name", "U+001B"),  # a terminal escape
        ("    name: Help\x7fdesk", "tiers[0].name", "U+007F"),
        ('    name: "Help\\u0085desk\\x9b"', "tiers[0].name", "U+009B"),
        ('    "na\\x01me": Helpdesk', "tiers[0].na\\x01me", "U+0001"),  # in a key
    ],
)
def test_control_characters_in_keys_and_strings_are_refused(tmp_path, line, path, code):
    """C0 (but tab and line breaks), DEL and C1 in any key or string value are refused, shown
    escaped in the message."""
    file, output = load_failing(tmp_path, plan_text(replace={27: line}))
    assert_error(output, file, path, 27, f"control character {code} is not allowed")


def test_tabs_and_line_breaks_in_strings_are_kept(tmp_path):
    """Tab and line breaks are text, not control characters, and load as written."""
    path = tmp_path / "ok.yaml"
    path.write_text(plan_text(replace={3: '  name: "De\\tmo"'}))
    call_command("load_plan", str(path), stdout=io.StringIO())
    assert Service.objects.get().name == "De\tmo"


def test_the_seed_plans_still_load():
    """The three seed plans use no aliases and no control characters: they load."""
    out = io.StringIO()
    call_command("load_plan", *SEEDS, stdout=out)
    assert len(SEEDS) == 3
    assert Service.objects.count() == 3
