"""The SLA sections of a plan: service, calendars, tiers, escalation, priorities, on-call."""

import re

from .. import rules
from ..loader import LineDict
from ..rules import RuleError
from ..spec import (
    ALWAYS_OPEN,
    CalendarSpec,
    EscalationSpec,
    HolidaySpec,
    OnCallSpec,
    PrioritySpec,
    ServiceSpec,
    TierSpec,
)
from .values import boolean, duration, email, integer, nullable, percent, slug, text

_PHONE = re.compile(r"^[0-9A-Za-z +()./-]+$")


def phone(value):
    """A phone number as customers dial it: digits, letters (1-800-ROOF-SUPPORT), spaces and
    ``+ ( ) - . /``; quote it in YAML (a bare +1-800… is text, 18005550100 would be a number)."""
    value = text(50)(value)
    if not _PHONE.match(value) or not any(ch.isdigit() for ch in value):
        raise RuleError(
            f"{value!r} is not a phone number: digits, letters, spaces and + ( ) - . / only"
        )
    return value


class SlaSections:
    """Mixed into the checker: each method checks one section and returns its spec."""

    def service(self, tree):
        parts = ("service",)
        node = self.mapping(
            tree.get("service", LineDict()),
            parts,
            tree.lines.get("service", tree.line),
            ("slug", "name", "timezone", "contact", "inbound", "phone"),
            required=("slug", "name") if "service" in tree else (),
        )
        if node is None:
            return ServiceSpec(slug="", name="")
        return ServiceSpec(
            slug=self.field(node, "slug", parts, slug, ""),
            name=self.field(node, "name", parts, text(200), ""),
            timezone=self.field(node, "timezone", parts, rules.check_timezone, "UTC"),
            contact=self.field(node, "contact", parts, email, ""),
            inbound=self.text_list(node, "inbound", parts, email),
            phone=self.field(node, "phone", parts, phone, ""),
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
        for here, node in self.entries(items, parts, allowed, ("level", "name")):
            level = self.field(node, "level", here, integer(1, 9))
            self.unique(seen, level, node, "level", here, f"tier level {level}")
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

        chain, contacts = self.management_chain(node, parts)
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
            management_contacts=contacts,
            management_interval=interval,
            pause_statuses=self.text_list(
                node, "pause_statuses", parts, status, ("waiting_on_customer",)
            ),
        )

    def management_chain(self, node, parts):
        """``[Tech Lead, {role: Sponsor, email: s@example.com}]`` → the role names in order, and
        ``((role, email), ...)`` for the entries that name who holds the role."""
        if "management_chain" not in node:
            return (), ()
        here = (*parts, "management_chain")
        items = self.sequence(node["management_chain"], here, node.lines["management_chain"])
        roles, contacts, seen = [], [], {}
        for index, item in enumerate(items):
            place, line = (*here, index), items.lines.get(index)
            email_address = None
            if isinstance(item, LineDict):
                if self.mapping(item, place, line, ("role", "email"), ("role", "email")) is None:
                    continue
                role = self.field(item, "role", place, text(100))
                email_address = self.field(item, "email", place, email)
            else:
                try:
                    role = text(100)(item)
                except RuleError as exc:
                    self.error(place, line, exc.message)
                    continue
            if role is None:
                continue
            if role in seen:
                self.error(place, line, f"duplicate role {role!r} (also item {seen[role]})")
                continue
            seen[role] = index
            roles.append(role)
            if email_address:
                contacts.append((role, email_address))
        return tuple(roles), tuple(contacts)

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
        for here, node in self.entries(items, parts, allowed, ("code", "name", "response")):
            code = self.field(node, "code", here, text(20), "")
            self.unique(seen, code, node, "code", here, f"priority code {code!r}")
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
        node = self.mapping(
            tree["on_call"], parts, tree.lines["on_call"], ("handoff", "layers", "acknowledge")
        )
        if node is None:
            return None
        layers = self.text_list(node, "layers", parts, default=("primary",))
        if "layers" in node and not layers:
            self.error((*parts, "layers"), node.lines["layers"], "name at least one layer")
        return OnCallSpec(
            handoff=self.field(node, "handoff", parts, rules.check_handoff, "mon 09:00"),
            layers=layers,
            acknowledge=self.field(node, "acknowledge", parts, duration, ""),
        )
