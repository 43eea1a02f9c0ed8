"""Validate a plan file's data tree into a ``Plan``, collecting every error with key path and line.

Nothing here touches the database: the result is either a ``Plan`` or a list of ``PlanError``.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from difflib import get_close_matches
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from . import rules
from .loader import LineDict, LineList, YamlProblem, load_yaml
from .rules import RuleError
from .spec import (
    ALWAYS_OPEN,
    SECTIONS,
    CalendarSpec,
    ContractSpec,
    EscalationSpec,
    HolidaySpec,
    IncidentsSpec,
    MaintenanceSpec,
    OnCallSpec,
    Plan,
    PrioritySpec,
    RecoveryClassSpec,
    RoutineTaskSpec,
    ServiceSpec,
    TargetsSpec,
    TierSpec,
    WindowSpec,
)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class PlanError:
    file: str
    path: str
    line: int | None
    message: str

    def __str__(self):
        where = f" {self.path}" if self.path else ""
        at = f" (line {self.line})" if self.line else ""
        if where:
            return f"{self.file}:{where}{at}: {self.message}"
        return f"{self.file}{at}: {self.message}"


class PlanInvalid(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


def format_path(parts):
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def read_plan(path):
    """Read and validate one plan file; return the ``Plan`` or raise ``PlanInvalid``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanInvalid([PlanError(name, "", None, f"cannot read the file: {exc}")]) from exc
    return parse_plan(text, name)


def parse_plan(text, name="<plan>", *, today=None):
    """Validate plan text; return the ``Plan`` or raise ``PlanInvalid`` with every error."""
    try:
        tree, problems = load_yaml(text)
    except YamlProblem as exc:
        raise PlanInvalid([PlanError(name, "", exc.line, exc.message)]) from exc
    checker = _Checker(name, today or date.today())
    for parts, line, message in problems:
        checker.error(parts, line, message)
    plan = checker.plan(tree)
    if checker.errors:
        raise PlanInvalid(sorted(checker.errors, key=lambda error: error.line or 0))
    return plan


# --- value checks: each takes the raw value and returns the clean one or raises RuleError -------


def text(max_length=200, *, required=True):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise RuleError("expected text")
        if not isinstance(value, str):
            raise RuleError(f"expected text; put {value!r} in quotes if you mean it as text")
        value = value.strip()
        if required and not value:
            raise RuleError("must not be empty")
        if len(value) > max_length:
            raise RuleError(f"too long: at most {max_length} characters")
        return value

    return check


def boolean(value):
    if not isinstance(value, bool):
        raise RuleError(f"expected true or false, not {value!r}")
    return value


def integer(low=0, high=None):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleError(f"expected a whole number, not {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise RuleError(f"{value} is out of range: must be {bound}")
        return value

    return check


def number(low=Decimal(0), high=None, what="a number"):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise RuleError(f"expected {what}")
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise RuleError(f"{value!r} is not {what}") from None
        if not result.is_finite() or result < low or (high is not None and result > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise RuleError(f"{value!r} is out of range: {what} must be {bound}")
        return result

    return check


def duration(value):
    return rules.check_duration(value)


def plain_duration(value):
    return rules.check_duration(value, business_days=False)


def percent(value):
    return rules.parse_percent(value)


def email(value):
    value = text()(value)
    try:
        validate_email(value)
    except ValidationError:
        raise RuleError(f"{value!r} is not an email address") from None
    return value


def slug(value):
    value = text(50)(value)
    if not _SLUG.match(value):
        raise RuleError(
            f"{value!r} is not a slug: lowercase letters, digits and single hyphens, e.g. xsafe-erp"
        )
    return value


def nullable(check):
    def wrapped(value):
        return None if value is None else check(value)

    return wrapped


_MISSING = object()


class _Checker:
    def __init__(self, file, today):
        self.file = file
        self.today = today
        self.errors = []

    def error(self, parts, line, message):
        self.errors.append(PlanError(self.file, format_path(parts), line, message))

    # --- structure -----------------------------------------------------------------------------

    def mapping(self, value, parts, line, allowed, required=()):
        """Check ``value`` is a mapping with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(value, LineDict):
            what = "a list" if isinstance(value, list) else repr(value)
            self.error(parts, line, f"expected a mapping of {', '.join(allowed)}; got {what}")
            return None
        for key in value:
            if key not in allowed:
                hint = get_close_matches(key, allowed, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.error(
                    (*parts, key),
                    value.lines[key],
                    f"unknown key {key!r}{suggestion}; expected one of: {', '.join(allowed)}",
                )
        for key in required:
            if key not in value:
                self.error((*parts, key), value.line, f"missing required key {key!r}")
        return value

    def sequence(self, value, parts, line, *, required=False):
        if value is None:
            # Absent (a missing required key is reported by ``mapping``), or `key:` left empty.
            if required and line is not None:
                self.error(parts, line, "must list at least one item")
            return LineList()
        if not isinstance(value, LineList):
            self.error(parts, line, "expected a list (items starting with `- `)")
            return LineList()
        if required and not value:
            self.error(parts, line, "must list at least one item")
        return value

    def field(self, mapping, key, parts, check, default=None):
        """Run ``check`` on ``mapping[key]``; on an error record it and return ``default``."""
        if key not in mapping:
            return default
        try:
            return check(mapping[key])
        except RuleError as exc:
            self.error((*parts, key), mapping.lines[key], exc.message)
            return default

    def text_list(self, mapping, key, parts, check=None, default=()):
        """A list of texts (``[a, b]``); each item checked with ``check`` (default: text)."""
        if key not in mapping:
            return default
        items = self.sequence(mapping[key], (*parts, key), mapping.lines[key])
        check = check or text(100)
        result = []
        for index, item in enumerate(items):
            try:
                result.append(check(item))
            except RuleError as exc:
                self.error((*parts, key, index), items.lines.get(index), exc.message)
        return tuple(result)

    # --- the plan ------------------------------------------------------------------------------

    def plan(self, tree):
        allowed = SECTIONS
        self.mapping(tree, (), tree.line, allowed, required=("service", "priorities", "tiers"))
        service = self.service(tree)
        calendars = self.calendars(tree, service.timezone)
        calendar_names = {ALWAYS_OPEN} | {calendar.name for calendar in calendars}
        tiers = self.tiers(tree, calendar_names)
        levels = {tier.level for tier in tiers}
        escalation = self.escalation(tree)
        priorities = self.priorities(tree, calendar_names, levels, escalation)
        return Plan(
            service=service,
            calendars=calendars,
            priorities=priorities,
            tiers=tiers,
            escalation=escalation,
            on_call=self.on_call(tree),
            maintenance=self.maintenance(tree, service.timezone),
            routine_tasks=self.routine_tasks(tree, levels),
            incidents=self.incidents(tree),
            contracts=self.contracts(tree),
            targets=self.targets(tree),
            source=self.file,
        )

    def service(self, tree):
        parts = ("service",)
        node = self.mapping(
            tree.get("service", LineDict()),
            parts,
            tree.lines.get("service", tree.line),
            ("slug", "name", "timezone", "contact"),
            required=("slug", "name") if "service" in tree else (),
        )
        if node is None:
            return ServiceSpec(slug="", name="")
        return ServiceSpec(
            slug=self.field(node, "slug", parts, slug, ""),
            name=self.field(node, "name", parts, text(200), ""),
            timezone=self.field(node, "timezone", parts, rules.check_timezone, "UTC"),
            contact=self.field(node, "contact", parts, email, ""),
        )

    def calendars(self, tree, default_zone):
        if "calendars" not in tree or tree["calendars"] is None:
            return ()
        parts = ("calendars",)
        node = tree["calendars"]
        if not isinstance(node, LineDict):
            self.error(parts, tree.lines["calendars"], "expected a mapping of calendar names")
            return ()
        result = []
        for name, value in node.items():
            here = (*parts, name)
            line = node.lines[name]
            if name == ALWAYS_OPEN:
                self.error(here, line, f"{ALWAYS_OPEN!r} always exists and cannot be redefined")
                continue
            if len(name) > 100:
                self.error(here, line, "a calendar name has at most 100 characters")
                continue
            calendar = self.mapping(
                value, here, line, ("timezone", "hours", "holidays"), required=("hours",)
            )
            if calendar is None:
                continue
            zone = self.field(calendar, "timezone", here, rules.check_timezone, default_zone)
            week = {}
            if "hours" in calendar:
                week = self.hours(calendar["hours"], (*here, "hours"), calendar.lines["hours"])
            holidays = self.holidays(calendar, here)
            result.append(
                CalendarSpec(
                    name=name,
                    timezone=zone,
                    hours=tuple((day, tuple(map(tuple, spans))) for day, spans in week.items()),
                    holidays=holidays,
                )
            )
        return tuple(result)

    def hours(self, value, parts, line):
        if not isinstance(value, LineDict):
            self.error(
                parts, line, 'expected weekdays mapped to hours, e.g. mon-fri: "09:00-18:00"'
            )
            return {}
        week, problems = rules.parse_hours(value)
        for key, message in problems:
            self.error((*parts, key), value.lines.get(key, line), message)
        if not value:
            self.error(parts, line, "a calendar needs at least one open interval")
        return week

    def holidays(self, calendar, parts):
        items = self.sequence(
            calendar.get("holidays"), (*parts, "holidays"), calendar.lines.get("holidays")
        )
        seen = {}
        result = []
        for index, item in enumerate(items):
            here = (*parts, "holidays", index)
            line = items.lines[index]
            name = ""
            if isinstance(item, LineDict):
                self.mapping(item, here, line, ("date", "name"), required=("date",))
                name = self.field(item, "name", here, text(100, required=False), "")
                raw = item.get("date")
                if raw is None:
                    continue
            else:
                raw = item
            try:
                day = rules.parse_date(raw)
            except RuleError as exc:
                self.error(here, line, exc.message)
                continue
            if day in seen:
                self.error(here, line, f"duplicate holiday {day} (also item {seen[day]})")
                continue
            seen[day] = index
            result.append(HolidaySpec(date=day, name=name))
        return tuple(sorted(result, key=lambda holiday: holiday.date))

    def calendar_name(self, names):
        def check(value):
            value = text(100)(value)
            if value not in names:
                raise RuleError(f"unknown calendar {value!r}; defined: {', '.join(sorted(names))}")
            return value

        return check

    def tiers(self, tree, calendar_names):
        parts = ("tiers",)
        items = self.sequence(tree.get("tiers"), parts, tree.lines.get("tiers"), required=True)
        allowed = ("level", "name", "scope", "contact", "calendar", "pickup", "on_call")
        result = []
        seen = {}
        for index, item in enumerate(items):
            here = (*parts, index)
            node = self.mapping(item, here, items.lines[index], allowed, ("level", "name"))
            if node is None:
                continue
            level = self.field(node, "level", here, integer(1, 9))
            if level is not None:
                if level in seen:
                    self.error(
                        (*here, "level"),
                        node.lines["level"],
                        f"duplicate tier level {level} (also tiers[{seen[level]}])",
                    )
                seen.setdefault(level, index)
            result.append(
                TierSpec(
                    level=level or 0,
                    name=self.field(node, "name", here, text(100), ""),
                    scope=self.field(node, "scope", here, text(2000, required=False), ""),
                    contact=self.field(node, "contact", here, text(200, required=False), ""),
                    calendar=self.field(
                        node, "calendar", here, self.calendar_name(calendar_names), ALWAYS_OPEN
                    ),
                    pickup=self.field(node, "pickup", here, nullable(duration)),
                    on_call=self.field(node, "on_call", here, boolean, False),
                )
            )
        if seen and sorted(seen) != list(range(1, len(seen) + 1)):
            self.error(
                parts,
                tree.lines.get("tiers"),
                f"tier levels must run 1, 2, 3… without gaps; got {sorted(seen)}",
            )
        return tuple(result)

    def escalation(self, tree):
        if tree.get("escalation") is None:
            return EscalationSpec()
        parts = ("escalation",)
        node = self.mapping(
            tree["escalation"],
            parts,
            tree.lines["escalation"],
            ("warn_at", "management_chain", "management_interval", "pause_statuses"),
        )
        if node is None:
            return EscalationSpec()

        def status(value):
            value = text(32)(value)
            if value not in rules.PAUSABLE_STATUSES:
                raise RuleError(
                    f"{value!r} is not a status a timer can pause in; use one of: "
                    + ", ".join(rules.PAUSABLE_STATUSES)
                )
            return value

        chain = self.text_list(node, "management_chain", parts)
        interval = self.field(node, "management_interval", parts, nullable(duration))
        if len(chain) > 1 and interval is None and "management_interval" not in node:
            self.error(
                (*parts, "management_interval"),
                node.line,
                "a management chain of more than one role needs management_interval",
            )
        return EscalationSpec(
            warn_at=self.field(node, "warn_at", parts, nullable(rules.check_warn_at)),
            management_chain=chain,
            management_interval=interval,
            pause_statuses=self.text_list(
                node, "pause_statuses", parts, status, ("waiting_on_customer",)
            ),
        )

    def priorities(self, tree, calendar_names, levels, escalation):
        parts = ("priorities",)
        items = self.sequence(
            tree.get("priorities"), parts, tree.lines.get("priorities"), required=True
        )
        allowed = (
            "code",
            "name",
            "description",
            "response",
            "resolution",
            "calendar",
            "uptime",
            "start_tier",
            "notify_management",
        )

        def start_tier(value):
            value = integer(1, 9)(value)
            if levels and value not in levels:
                raise RuleError(
                    f"tier {value} is not one of the plan's tier levels "
                    f"({', '.join(map(str, sorted(levels)))})"
                )
            return value

        result = []
        seen = {}
        for index, item in enumerate(items):
            here = (*parts, index)
            node = self.mapping(
                item, here, items.lines[index], allowed, ("code", "name", "response")
            )
            if node is None:
                continue
            code = self.field(node, "code", here, text(20), "")
            if code:
                if code in seen:
                    self.error(
                        (*here, "code"),
                        node.lines["code"],
                        f"duplicate priority code {code!r} (also priorities[{seen[code]}])",
                    )
                seen.setdefault(code, index)
            notify = self.field(node, "notify_management", here, boolean, False)
            if notify and not escalation.management_chain:
                self.error(
                    (*here, "notify_management"),
                    node.lines["notify_management"],
                    "notify_management needs escalation.management_chain to name who to notify",
                )
            result.append(
                PrioritySpec(
                    code=code,
                    name=self.field(node, "name", here, text(100), ""),
                    description=self.field(
                        node, "description", here, text(2000, required=False), ""
                    ),
                    response=self.field(node, "response", here, duration, ""),
                    resolution=self.field(node, "resolution", here, nullable(duration)),
                    calendar=self.field(
                        node, "calendar", here, self.calendar_name(calendar_names), ALWAYS_OPEN
                    ),
                    uptime=self.field(node, "uptime", here, nullable(percent)),
                    start_tier=self.field(node, "start_tier", here, start_tier, 1),
                    notify_management=notify,
                )
            )
        return tuple(result)

    def on_call(self, tree):
        if "on_call" not in tree:
            return None
        parts = ("on_call",)
        node = self.mapping(tree["on_call"], parts, tree.lines["on_call"], ("handoff", "layers"))
        if node is None:
            return None
        layers = self.text_list(node, "layers", parts, default=("primary",))
        if "layers" in node and not layers:
            self.error((*parts, "layers"), node.lines["layers"], "name at least one layer")
        return OnCallSpec(
            handoff=self.field(node, "handoff", parts, rules.check_handoff, "mon 09:00"),
            layers=layers,
        )

    def maintenance(self, tree, default_zone):
        if "maintenance" not in tree:
            return None
        parts = ("maintenance",)
        node = self.mapping(
            tree["maintenance"],
            parts,
            tree.lines["maintenance"],
            ("notices", "channels", "quarterly_digest", "allowed", "windows"),
        )
        if node is None:
            return None

        def channel(value):
            value = text(20)(value)
            if value not in rules.CHANNELS:
                raise RuleError(f"unknown channel {value!r}; use: {', '.join(rules.CHANNELS)}")
            return value

        notices = self.text_list(node, "notices", parts, plain_duration)
        digest = self.field(node, "quarterly_digest", parts, nullable(plain_duration))
        if digest and notices:
            longest = max(notices, key=rules.duration_minutes)
            if rules.duration_minutes(digest) < rules.duration_minutes(longest):
                self.error(
                    (*parts, "quarterly_digest"),
                    node.lines["quarterly_digest"],
                    f"{digest} is shorter than the longest notice ({longest}): the quarter's "
                    "calendar must go out before any of its windows' notices",
                )
        allowed_slot = self.field(node, "allowed", parts, nullable(self.slot))
        return MaintenanceSpec(
            notices=notices,
            channels=self.text_list(node, "channels", parts, channel),
            quarterly_digest=digest,
            allowed=allowed_slot,
            windows=self.windows(node, parts, default_zone, allowed_slot),
        )

    def slot(self, value):
        value = text(100)(value)
        rules.parse_slot(value)
        return value

    def windows(self, node, parts, default_zone, allowed_slot):
        parts = (*parts, "windows")
        items = self.sequence(node.get("windows"), parts, node.lines.get("windows"))
        allowed = ("name", "category", "rrule", "date", "start", "duration", "timezone", "impact")
        result = []
        seen = {}
        for index, item in enumerate(items):
            here = (*parts, index)
            line = items.lines[index]
            window = self.mapping(item, here, line, allowed, ("name", "start", "duration"))
            if window is None:
                continue
            name = self.field(window, "name", here, text(100), "")
            if name:
                if name in seen:
                    self.error(
                        (*here, "name"),
                        window.lines["name"],
                        f"duplicate window name {name!r} (also windows[{seen[name]}])",
                    )
                seen.setdefault(name, index)
            has_rule, has_date = window.get("rrule") is not None, window.get("date") is not None
            if has_rule == has_date:
                self.error(
                    here,
                    line,
                    "a window needs exactly one of `rrule` (recurring) or `date` (one-off)"
                    + ("; it has both" if has_rule else ""),
                )
            rrule = self.field(window, "rrule", here, nullable(rules.check_rrule))
            on_date = self.field(window, "date", here, nullable(rules.parse_date))
            start = self.field(window, "start", here, rules.to_time)
            length = self.field(window, "duration", here, plain_duration)
            zone = self.field(window, "timezone", here, rules.check_timezone, default_zone)
            if allowed_slot and start and length and zone and (rrule or on_date):
                try:
                    rules.check_window_in_slot(
                        slot=allowed_slot,
                        start=start,
                        duration=length,
                        timezone=zone,
                        rrule=rrule,
                        on_date=on_date,
                        today=self.today,
                    )
                except RuleError as exc:
                    self.error((*here, "start"), window.lines["start"], exc.message)
            result.append(
                WindowSpec(
                    name=name,
                    category=self.field(window, "category", here, text(50), "general"),
                    rrule=rrule,
                    date=on_date,
                    start=start,
                    duration=length or "",
                    timezone=zone,
                    impact=self.field(window, "impact", here, text(500, required=False), ""),
                )
            )
        return tuple(result)

    def routine_tasks(self, tree, levels):
        parts = ("routine_tasks",)
        items = self.sequence(tree.get("routine_tasks"), parts, tree.lines.get("routine_tasks"))

        def every(value):
            value = text(20)(value)
            if value not in rules.ROUTINE_EVERY:
                raise RuleError(f"{value!r}: use one of {', '.join(rules.ROUTINE_EVERY)}")
            return value

        def tier(value):
            value = integer(1, 9)(value)
            if levels and value not in levels:
                raise RuleError(f"tier {value} is not one of the plan's tier levels")
            return value

        result = []
        seen = {}
        for index, item in enumerate(items):
            here = (*parts, index)
            node = self.mapping(
                item,
                here,
                items.lines[index],
                ("name", "every", "category", "tier"),
                ("name", "every"),
            )
            if node is None:
                continue
            name = self.field(node, "name", here, text(200), "")
            if name:
                if name in seen:
                    self.error(
                        (*here, "name"),
                        node.lines["name"],
                        f"duplicate routine task {name!r} (also routine_tasks[{seen[name]}])",
                    )
                seen.setdefault(name, index)
            result.append(
                RoutineTaskSpec(
                    name=name,
                    every=self.field(node, "every", here, every, "weekly"),
                    category=self.field(node, "category", here, text(50), "general"),
                    tier=self.field(node, "tier", here, nullable(tier)),
                )
            )
        return tuple(result)

    def incidents(self, tree):
        if "incidents" not in tree:
            return None
        parts = ("incidents",)
        node = self.mapping(
            tree["incidents"], parts, tree.lines["incidents"], ("postmortem_due", "steps")
        )
        if node is None:
            return None
        return IncidentsSpec(
            postmortem_due=self.field(node, "postmortem_due", parts, nullable(duration)),
            steps=self.text_list(node, "steps", parts),
        )

    def contracts(self, tree):
        parts = ("contracts",)
        items = self.sequence(tree.get("contracts"), parts, tree.lines.get("contracts"))
        result = []
        seen = {}
        for index, item in enumerate(items):
            here = (*parts, index)
            node = self.mapping(
                item,
                here,
                items.lines[index],
                ("name", "hours_per_month", "monthly_cost", "currency", "includes"),
                ("name", "hours_per_month", "monthly_cost"),
            )
            if node is None:
                continue
            name = self.field(node, "name", here, text(100), "")
            if name:
                if name in seen:
                    self.error(
                        (*here, "name"),
                        node.lines["name"],
                        f"duplicate contract {name!r} (also contracts[{seen[name]}])",
                    )
                seen.setdefault(name, index)

            def currency(value):
                value = text(3)(value)
                if not _CURRENCY.match(value):
                    raise RuleError(f"{value!r} is not a currency code such as USD or EUR")
                return value

            result.append(
                ContractSpec(
                    name=name,
                    hours_per_month=self.field(node, "hours_per_month", here, integer(0), 0),
                    monthly_cost=self.field(
                        node, "monthly_cost", here, number(what="a cost"), Decimal(0)
                    ),
                    currency=self.field(node, "currency", here, currency, "USD"),
                    includes=self.field(node, "includes", here, text(500, required=False), ""),
                )
            )
        return tuple(result)

    def targets(self, tree):
        if "targets" not in tree:
            return None
        parts = ("targets",)
        allowed = (
            "uptime",
            "mttr",
            "mtbf",
            "first_response_avg",
            "resolution_rate",
            "csat",
            "rto",
            "rpo",
            "p95_response_ms",
            "error_rate",
            "concurrent_users",
            "recovery",
        )
        node = self.mapping(tree["targets"], parts, tree.lines["targets"], allowed)
        if node is None:
            return None
        recovery = []
        items = self.sequence(
            node.get("recovery"), (*parts, "recovery"), node.lines.get("recovery")
        )
        for index, item in enumerate(items):
            here = (*parts, "recovery", index)
            entry = self.mapping(item, here, items.lines[index], ("name", "rto", "rpo"), ("name",))
            if entry is None:
                continue
            recovery.append(
                RecoveryClassSpec(
                    name=self.field(entry, "name", here, text(100), ""),
                    rto=self.field(entry, "rto", here, nullable(duration)),
                    rpo=self.field(entry, "rpo", here, nullable(duration)),
                )
            )
        return TargetsSpec(
            uptime=self.field(node, "uptime", parts, nullable(percent)),
            mttr=self.field(node, "mttr", parts, nullable(duration)),
            mtbf=self.field(node, "mtbf", parts, nullable(duration)),
            first_response_avg=self.field(node, "first_response_avg", parts, nullable(duration)),
            resolution_rate=self.field(node, "resolution_rate", parts, nullable(percent)),
            csat=self.field(
                node, "csat", parts, nullable(number(high=Decimal(5), what="a score out of 5"))
            ),
            rto=self.field(node, "rto", parts, nullable(duration)),
            rpo=self.field(node, "rpo", parts, nullable(duration)),
            p95_response_ms=self.field(node, "p95_response_ms", parts, nullable(integer(1))),
            error_rate=self.field(node, "error_rate", parts, nullable(percent)),
            concurrent_users=self.field(node, "concurrent_users", parts, nullable(integer(1))),
            recovery=tuple(recovery),
        )
