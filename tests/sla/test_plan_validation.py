"""load_plan refuses a wrong file whole: each error names file, key path and line."""

import io

import pytest
from django.core.management import CommandError, call_command

from maintenance.models import MaintenanceWindow
from routine.models import RoutineTask
from sla.models import Calendar, Priority, Service, Tier

BASE = """\
service:
  slug: demo
  name: Demo
  timezone: UTC
calendars:
  office:
    timezone: Europe/Berlin
    hours:
      mon-fri: "09:00-18:00"
    holidays: [2026-12-25]
priorities:
  - code: P0
    name: Critical
    response: 15m
    resolution: 4h
    calendar: office
  - code: P1
    name: High
    response: 1h
    resolution: 8h
  - code: P2
    name: Low
    response: 4h
    resolution: null
tiers:
  - level: 1
    name: Helpdesk
    calendar: office
  - level: 2
    name: Dev
escalation:
  warn_at: 75%
  management_chain: [Lead]
maintenance:
  notices: [7d, 48h]
  channels: [email]
  allowed: "02:00-06:00 America/New_York"
  windows:
    - name: Weekly
      rrule: FREQ=WEEKLY;BYDAY=SU
      start: "02:00"
      duration: 2h
      timezone: America/New_York
routine_tasks:
  - name: Backups
    every: weekly
"""


def plan_text(replace=None, after=None, append=""):
    """BASE with line N replaced (``replace={N: text}``) or lines inserted after line N."""
    lines = BASE.splitlines()
    out = []
    for number, line in enumerate(lines, start=1):
        out.append(replace[number] if replace and number in replace else line)
        if after and number in after:
            out.append(after[number])
    return "\n".join(out) + "\n" + append


def counts():
    return [
        model.objects.count()
        for model in (Service, Calendar, Priority, Tier, MaintenanceWindow, RoutineTask)
    ]


def load_failing(tmp_path, text, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(text)
    stderr = io.StringIO()
    before = counts()
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_plan", str(path), stdout=io.StringIO(), stderr=stderr)
    assert counts() == before
    return str(path), stderr.getvalue()


def assert_error(output, file, path, line, fragment):
    wanted = f"{file}: {path} (line {line}): "
    matching = [row for row in output.splitlines() if row.startswith(wanted)]
    assert matching, f"no error starting {wanted!r} in:\n{output}"
    assert any(fragment in row for row in matching), f"{fragment!r} not in {matching}"


@pytest.mark.django_db
def test_base_plan_is_valid(tmp_path):
    """The fixture plan every case below breaks is itself valid and loads."""
    path = tmp_path / "good.yaml"
    path.write_text(BASE)
    out = io.StringIO()
    call_command("load_plan", str(path), stdout=out)
    assert out.getvalue().startswith("demo: created ")


CASES = [
    # (id, plan text, key path, line, message fragment)
    (
        "bad-duration",
        plan_text(replace={23: "    response: 15x"}),
        "priorities[2].response",
        23,
        "'15x' is not a duration",
    ),
    (
        "unknown-top-level-key",
        plan_text(append="colour: blue\n"),
        "colour",
        47,
        "unknown key 'colour'",
    ),
    (
        "unknown-nested-key",
        plan_text(replace={27: "    nam: Helpdesk"}),
        "tiers[0].nam",
        27,
        "unknown key 'nam' (did you mean 'name'?)",
    ),
    (
        "missing-required-key",
        plan_text(replace={27: "    scope: Everything"}),
        "tiers[0].name",
        26,
        "missing required key 'name'",
    ),
    (
        "missing-service-name",
        plan_text(replace={3: "  contact: ops@example.com"}),
        "service.name",
        2,
        "missing required key 'name'",
    ),
    (
        "wrong-type-list",
        plan_text(replace={33: "  management_chain: Lead"}),
        "escalation.management_chain",
        33,
        "expected a list",
    ),
    (
        "wrong-type-bool",
        plan_text(after={30: "    on_call: sometimes"}),
        "tiers[1].on_call",
        31,
        "expected true or false",
    ),
    (
        "unknown-time-zone",
        plan_text(replace={7: "    timezone: Europe/Berln"}),
        "calendars.office.timezone",
        7,
        "unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)",
    ),
    (
        "unknown-window-time-zone",
        plan_text(replace={43: "      timezone: Mars/Olympus"}),
        "maintenance.windows[0].timezone",
        43,
        "unknown time zone 'Mars/Olympus'",
    ),
    (
        "unknown-priority-calendar",
        plan_text(replace={16: "    calendar: ofice"}),
        "priorities[0].calendar",
        16,
        "unknown calendar 'ofice'",
    ),
    (
        "unknown-tier-calendar",
        plan_text(replace={28: "    calendar: night-shift"}),
        "tiers[0].calendar",
        28,
        "unknown calendar 'night-shift'",
    ),
    (
        "inverted-business-hours",
        plan_text(replace={9: '      mon-fri: "18:00-09:00"'}),
        "calendars.office.hours.mon-fri",
        9,
        "'18:00-09:00': the end must be after the start",
    ),
    (
        "overlapping-hours-via-range",
        plan_text(after={9: '      wed: "12:00-20:00"'}),
        "calendars.office.hours.wed",
        10,
        "wed: 12:00-20:00 overlaps 09:00-18:00 (from 'mon-fri')",
    ),
    (
        "overlapping-hours-same-day",
        plan_text(replace={9: '      mon: ["09:00-13:00", "12:00-18:00"]'}),
        "calendars.office.hours.mon",
        9,
        "mon: 12:00-18:00 overlaps 09:00-13:00",
    ),
    (
        "bad-weekday",
        plan_text(replace={9: '      mon-fry: "09:00-18:00"'}),
        "calendars.office.hours.mon-fry",
        9,
        "'mon-fry' is not a weekday or range",
    ),
    (
        "backwards-weekday-range",
        plan_text(replace={9: '      fri-mon: "09:00-18:00"'}),
        "calendars.office.hours.fri-mon",
        9,
        "a range runs forward within the week",
    ),
    (
        "bad-holiday-date",
        plan_text(replace={10: "    holidays: [2026-02-30]"}),
        "calendars.office.holidays[0]",
        10,
        "'2026-02-30' is not a date",
    ),
    (
        "redefined-24/7",
        plan_text(after={10: '  24/7:\n    hours:\n      mon: "00:00-24:00"'}),
        "calendars.24/7",
        11,
        "always exists",
    ),
    (
        "window-outside-slot-same-zone",
        plan_text(replace={41: '      start: "05:00"'}),
        "maintenance.windows[0].start",
        41,
        "outside the allowed slot 02:00-06:00 America/New_York",
    ),
    (
        "window-outside-slot-other-zone",
        plan_text(replace={43: "      timezone: UTC"}),
        "maintenance.windows[0].start",
        41,
        "America/New_York on ",
    ),
    (
        "bad-rrule",
        plan_text(replace={40: "      rrule: FREQ=WEEKLY;BYDAY=XX"}),
        "maintenance.windows[0].rrule",
        40,
        "is not a valid RRULE",
    ),
    (
        "rrule-without-freq",
        plan_text(replace={40: "      rrule: BYDAY=SU"}),
        "maintenance.windows[0].rrule",
        40,
        "an RRULE needs FREQ",
    ),
    (
        "window-with-rrule-and-date",
        plan_text(after={40: "      date: 2026-12-06"}),
        "maintenance.windows[0]",
        39,
        "exactly one of `rrule` (recurring) or `date` (one-off); it has both",
    ),
    (
        "window-with-neither-rrule-nor-date",
        plan_text(replace={40: "      category: database"}),
        "maintenance.windows[0]",
        39,
        "exactly one of `rrule` (recurring) or `date` (one-off)",
    ),
    (
        "bad-window-date",
        plan_text(replace={40: "      date: 2026-13-01"}),
        "maintenance.windows[0].date",
        40,
        "is not a date",
    ),
    (
        "duplicate-priority-code",
        plan_text(replace={17: "  - code: P0"}),
        "priorities[1].code",
        17,
        "duplicate priority code 'P0' (also priorities[0])",
    ),
    (
        "duplicate-tier-level",
        plan_text(replace={29: "  - level: 1"}),
        "tiers[1].level",
        29,
        "duplicate tier level 1",
    ),
    (
        "duplicate-window-name",
        plan_text(
            after={
                43: "    - name: Weekly\n      date: 2026-12-06\n"
                '      start: "03:00"\n      duration: 1h\n      timezone: America/New_York'
            }
        ),
        "maintenance.windows[1].name",
        44,
        "duplicate window name 'Weekly'",
    ),
    (
        "duplicate-calendar-name",
        plan_text(after={10: '  office:\n    hours:\n      sat: "10:00-12:00"'}),
        "calendars.office",
        11,
        "duplicate key 'office' (first on line 6)",
    ),
    (
        "warn-at-too-high",
        plan_text(replace={32: "  warn_at: 100%"}),
        "escalation.warn_at",
        32,
        "must be between 1 and 99",
    ),
    (
        "warn-at-zero",
        plan_text(replace={32: "  warn_at: 0"}),
        "escalation.warn_at",
        32,
        "must be between 1 and 99",
    ),
    (
        "start-tier-not-a-level",
        plan_text(after={24: "    start_tier: 3"}),
        "priorities[2].start_tier",
        25,
        "tier 3 is not one of the plan's tier levels (1, 2)",
    ),
    (
        "uptime-percent-out-of-range",
        plan_text(after={15: "    uptime: 120%"}),
        "priorities[0].uptime",
        16,
        "must be between 0 and 100",
    ),
    (
        "percent-not-a-number",
        plan_text(after={15: "    uptime: lots"}),
        "priorities[0].uptime",
        16,
        "'lots' is not a percentage",
    ),
    (
        "unknown-routine-every",
        plan_text(replace={46: "    every: fortnightly"}),
        "routine_tasks[0].every",
        46,
        "'fortnightly': use one of",
    ),
    (
        "digest-shorter-than-notice",
        plan_text(after={36: "  quarterly_digest: 2d"}),
        "maintenance.quarterly_digest",
        37,
        "shorter than the longest notice (7d)",
    ),
    (
        "duplicate-routine-task",
        plan_text(append="  - name: Backups\n    every: monthly\n"),
        "routine_tasks[1].name",
        47,
        "duplicate routine task 'Backups' (also routine_tasks[0])",
    ),
    (
        "duplicate-contract",
        plan_text(
            append="contracts:\n"
            "  - name: Basic\n    hours_per_month: 5\n    monthly_cost: 100\n"
            "  - name: Basic\n    hours_per_month: 10\n    monthly_cost: 200\n"
        ),
        "contracts[1].name",
        51,
        "duplicate contract 'Basic' (also contracts[0])",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "path", "line", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_file_is_refused_with_path_and_line(tmp_path, text, path, line, fragment):
    """Each rule refuses the file, naming file, key path and line; the database is untouched."""
    file, output = load_failing(tmp_path, text)
    assert_error(output, file, path, line, fragment)


@pytest.mark.django_db
def test_all_errors_of_a_file_are_reported_at_once(tmp_path):
    """One run lists every error of the file, in line order, not just the first."""
    text = plan_text(
        replace={
            7: "    timezone: Nowhere/City",
            9: '      mon-fri: "18:00-09:00"',
            23: "    response: 15x",
            32: "  warn_at: 150%",
            40: "      rrule: FREQ=SOMETIMES",
        }
    )
    file, output = load_failing(tmp_path, text)
    assert_error(output, file, "calendars.office.timezone", 7, "unknown time zone")
    assert_error(output, file, "calendars.office.hours.mon-fri", 9, "end must be after")
    assert_error(output, file, "priorities[2].response", 23, "not a duration")
    assert_error(output, file, "escalation.warn_at", 32, "between 1 and 99")
    assert_error(output, file, "maintenance.windows[0].rrule", 40, "FREQ must be one of")
    lines = [int(row.split("(line ")[1].split(")")[0]) for row in output.splitlines()]
    assert lines == sorted(lines)


@pytest.mark.django_db
def test_errors_of_every_file_are_reported_and_good_files_not_written(tmp_path):
    """A good file loaded together with bad ones is not written either; all files' errors show."""
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    bad_one = tmp_path / "one.yaml"
    bad_one.write_text(plan_text(replace={23: "    response: 15x"}))
    bad_two = tmp_path / "two.yaml"
    bad_two.write_text("service: [unclosed\n")
    stderr = io.StringIO()
    with pytest.raises(CommandError, match=r"2 error\(s\) in 2 file\(s\)"):
        call_command("load_plan", str(good), str(bad_one), str(bad_two), stderr=stderr)
    assert not Service.objects.exists()
    assert f"{bad_one}: priorities[2].response (line 23)" in stderr.getvalue()
    assert f"{bad_two} (line 2): not valid YAML" in stderr.getvalue()


@pytest.mark.django_db
def test_a_bad_edit_leaves_a_loaded_service_as_it_was(tmp_path):
    """A loaded service is not touched by a later bad version of its file."""
    path = tmp_path / "demo.yaml"
    path.write_text(BASE)
    call_command("load_plan", str(path), stdout=io.StringIO())
    path.write_text(plan_text(replace={19: "    response: 2h", 23: "    response: 15x"}))
    with pytest.raises(CommandError):
        call_command("load_plan", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Priority.objects.get(code="P1").response == "1h"


@pytest.mark.django_db
def test_file_that_is_not_yaml(tmp_path):
    """Text that YAML cannot read is refused with the line where reading failed."""
    file, output = load_failing(tmp_path, "service:\n  slug: demo\n  name: [Demo\npriorities: x\n")
    assert output.startswith(f"{file} (line 4): not valid YAML")


@pytest.mark.django_db
def test_binary_file_is_refused(tmp_path):
    """A file that is not text at all is refused, not a crash."""
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command("load_plan", str(path), stderr=stderr)
    assert str(path) in stderr.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["- a\n- list\n", "just words\n", ""])
def test_top_level_must_be_a_mapping(tmp_path, text):
    """A YAML list, a bare scalar or an empty file is refused: a plan is a mapping of sections."""
    file, output = load_failing(tmp_path, text)
    assert output.startswith(file)
    assert "top level must be a mapping" in output or "the file is empty" in output


@pytest.mark.django_db
def test_missing_file(tmp_path):
    """A path that does not exist is reported like any other error."""
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command("load_plan", str(tmp_path / "nope.yaml"), stderr=stderr)
    assert "cannot read the file" in stderr.getvalue()


@pytest.mark.django_db
def test_same_slug_in_two_files(tmp_path):
    """Two files for the same service are refused rather than applied one over the other."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(BASE)
    second.write_text(BASE)
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command("load_plan", str(first), str(second), stderr=stderr)
    assert f"{second}: service.slug: 'demo' is also the slug in {first}" in stderr.getvalue()
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=SU;UNTIL=20261231T000000Z",
        "RRULE:FREQ=MONTHLY;BYDAY=-1MO;COUNT=3",
        "FREQ=MONTHLY;BYDAY=+3MO",
    ],
)
def test_valid_rrules_are_accepted(rule):
    """RFC 5545 rules as calendars write them (UTC UNTIL, RRULE: prefix, COUNT) are accepted."""
    from sla.plan.rules import check_rrule

    assert check_rrule(rule).startswith("FREQ=")


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("FREQ=HOURLY", "FREQ must be one of"),
        ("FREQ=WEEKLY;BYHOUR=3", "drop BYHOUR"),
        ("FREQ=WEEKLY;UNTIL=garbage", "is not a valid RRULE"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "no DTSTART"),
    ],
)
def test_rrules_a_window_cannot_use(rule, fragment):
    """Sub-daily rules, BYHOUR and an embedded DTSTART are refused with a reason."""
    from sla.plan.rules import RuleError, check_rrule

    with pytest.raises(RuleError, match=fragment):
        check_rrule(rule)
