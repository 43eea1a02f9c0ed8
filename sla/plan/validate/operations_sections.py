"""The operations sections of a plan: maintenance, routine tasks, incidents, contracts, targets."""

from decimal import Decimal

from .. import rules
from ..rules import RuleError
from ..spec import (
    REPORT_EVERY,
    ContractSpec,
    IncidentsSpec,
    MaintenanceSpec,
    RecoveryClassSpec,
    ReportsSpec,
    RoutineTaskSpec,
    RunbookSpec,
    TargetsSpec,
    WindowSpec,
)
from .values import (
    CURRENCY,
    boolean,
    duration,
    integer,
    nullable,
    number,
    percent,
    plain_duration,
    slug,
    text,
)

# A routine task done once per release staff record, due ``within`` after it.
ON_RELEASE = "on_release"


class OperationsSections:
    """Mixed into the checker: each method checks one section and returns its spec."""

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
            # Omitted: the documented default, email and banner; `channels: []` (or left
            # empty) is the plan saying "no notices" on purpose.
            channels=self.text_list(node, "channels", parts, channel, rules.DEFAULT_CHANNELS),
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
        for here, window in self.entries(items, parts, allowed, ("name", "start", "duration")):
            line = window.line
            name = self.field(window, "name", here, text(100), "")
            self.unique(seen, name, window, "name", here, f"window name {name!r}")
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
            if value not in (*rules.ROUTINE_EVERY, ON_RELEASE):
                kinds = ", ".join((*rules.ROUTINE_EVERY, ON_RELEASE))
                raise RuleError(f"{value!r}: use one of {kinds}")
            return value

        def tier(value):
            value = integer(1, 9)(value)
            if levels and value not in levels:
                raise RuleError(f"tier {value} is not one of the plan's tier levels")
            return value

        result = []
        seen = {}
        allowed = ("name", "every", "category", "tier", "within")
        for here, node in self.entries(items, parts, allowed, ("name", "every")):
            name = self.field(node, "name", here, text(200), "")
            self.unique(seen, name, node, "name", here, f"routine task {name!r}")
            kind = self.field(node, "every", here, every, "weekly")
            within = self.field(node, "within", here, nullable(plain_duration))
            if kind == ON_RELEASE and within is None and node.get("within") is None:
                self.error(here, node.line, "`every: on_release` needs `within` (e.g. 7d)")
            elif kind != ON_RELEASE and within is not None:
                self.error(
                    (*here, "within"), node.lines["within"], "only `every: on_release` has one"
                )
            result.append(
                RoutineTaskSpec(
                    name=name,
                    every=kind,
                    category=self.field(node, "category", here, text(50), "general"),
                    tier=self.field(node, "tier", here, nullable(tier)),
                    within=within,
                )
            )
        return tuple(result)

    def incidents(self, tree, escalation):
        if "incidents" not in tree:
            return None
        parts = ("incidents",)
        node = self.mapping(
            tree["incidents"],
            parts,
            tree.lines["incidents"],
            ("postmortem_due", "steps", "runbooks"),
        )
        if node is None:
            return None
        return IncidentsSpec(
            postmortem_due=self.field(node, "postmortem_due", parts, nullable(duration)),
            steps=self.text_list(node, "steps", parts),
            runbooks=self.runbooks(node, parts, escalation),
        )

    def runbooks(self, node, parts, escalation):
        """``incidents.runbooks``: per incident type, its steps, the management roles told at
        once (names of the escalation's chain) and the deadlines that run from detection."""
        parts = (*parts, "runbooks")
        items = self.sequence(node.get("runbooks"), parts, node.lines.get("runbooks"))
        chain = set(escalation.management_chain)

        def role(value):
            value = text(100)(value)
            if value not in chain:
                raise RuleError(f"{value!r} is not a role of escalation.management_chain")
            return value

        result, seen = [], {}
        allowed = ("type", "name", "steps", "notify", "deadlines")
        for here, entry in self.entries(items, parts, allowed, ("type", "name")):
            kind = self.field(entry, "type", here, slug, "")
            self.unique(seen, kind, entry, "type", here, f"runbook type {kind!r}")
            deadlines, names = [], {}
            deadline_parts = (*here, "deadlines")
            listed = self.sequence(
                entry.get("deadlines"), deadline_parts, entry.lines.get("deadlines")
            )
            for there, deadline in self.entries(
                listed, deadline_parts, ("name", "within"), ("name", "within")
            ):
                name = self.field(deadline, "name", there, text(200), "")
                self.unique(names, name, deadline, "name", there, f"deadline {name!r}")
                deadlines.append((name, self.field(deadline, "within", there, duration, "")))
            result.append(
                RunbookSpec(
                    type=kind,
                    name=self.field(entry, "name", here, text(200), ""),
                    steps=self.text_list(entry, "steps", here, text(300)),
                    notify=self.text_list(entry, "notify", here, role),
                    deadlines=tuple(deadlines),
                )
            )
        return tuple(result)

    def contracts(self, tree):
        parts = ("contracts",)
        items = self.sequence(tree.get("contracts"), parts, tree.lines.get("contracts"))
        result = []
        seen = {}
        allowed = ("name", "hours_per_month", "monthly_cost", "currency", "includes")

        def currency(value):
            value = text(3)(value)
            if not CURRENCY.match(value):
                raise RuleError(f"{value!r} is not a currency code such as USD or EUR")
            return value

        for here, node in self.entries(
            items, parts, allowed, ("name", "hours_per_month", "monthly_cost")
        ):
            name = self.field(node, "name", here, text(100), "")
            self.unique(seen, name, node, "name", here, f"contract {name!r}")
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
        for here, entry in self.entries(
            items, (*parts, "recovery"), ("name", "rto", "rpo"), ("name",)
        ):
            recovery.append(
                RecoveryClassSpec(
                    name=self.field(entry, "name", here, text(100), ""),
                    rto=self.field(entry, "rto", here, nullable(duration)),
                    rpo=self.field(entry, "rpo", here, nullable(duration)),
                )
            )
        strict = []

        def target(key, check, best=None):
            return self.target(node, key, parts, check, strict, best)

        values = dict(
            uptime=target("uptime", percent, Decimal(100)),
            mttr=target("mttr", duration),
            mtbf=target("mtbf", duration),
            first_response_avg=target("first_response_avg", duration),
            resolution_rate=target("resolution_rate", percent, Decimal(100)),
            csat=target("csat", number(high=Decimal(5), what="a score out of 5"), Decimal(5)),
            rto=target("rto", duration),
            rpo=target("rpo", duration),
            p95_response_ms=target("p95_response_ms", integer(1)),
            error_rate=target("error_rate", percent, Decimal(0)),
            concurrent_users=target("concurrent_users", integer(1)),
        )
        return TargetsSpec(**values, recovery=tuple(recovery), strict=tuple(sorted(strict)))

    def target(self, node, key, parts, check, strict, best=None):
        """One target: a value as ``check`` takes it, optionally led by an operator
        (``"<4h"``, ``">95"``, ``">=99.9"``); ``<`` and ``>`` make it strict (``strict`` gets
        the key), so a value exactly on it is missed. ``best``: the best value the metric can
        take, which a strict target could never beat."""
        if key not in node or node[key] is None:
            return None
        try:
            operator, raw = rules.split_target(key, node[key])
            value = check(raw)
            if operator in rules.STRICT_OPERATORS and best is not None and value == best:
                raise RuleError(f"{node[key]!r} can never be met: {best} is the best {key}")
        except RuleError as exc:
            self.error((*parts, key), node.lines[key], exc.message)
            return None
        if operator in rules.STRICT_OPERATORS:
            strict.append(key)
        return value

    def reports(self, tree, escalation):
        """``reports``: which period reports (monthly, quarterly) go to which management roles
        (names of the escalation's chain, so a typo is caught here, not in a silent month) and
        whether contract holders get theirs."""
        if "reports" not in tree:
            return None
        parts = ("reports",)
        node = self.mapping(
            tree["reports"], parts, tree.lines["reports"], ("every", "to", "contract_holders")
        )
        if node is None:
            return None

        def every(value):
            value = text(20)(value)
            if value not in REPORT_EVERY:
                raise RuleError(f"{value!r}: use one of {', '.join(REPORT_EVERY)}")
            return value

        chain = set(escalation.management_chain)

        def role(value):
            value = text(100)(value)
            if value not in chain:
                raise RuleError(f"{value!r} is not a role of escalation.management_chain")
            return value

        kinds = self.text_list(node, "every", parts, every, REPORT_EVERY)
        if "every" in node and not node["every"]:
            self.error((*parts, "every"), node.lines["every"], "name at least one period")
        return ReportsSpec(
            every=tuple(k for k in REPORT_EVERY if k in kinds),
            to=self.text_list(node, "to", parts, role),
            contract_holders=self.field(node, "contract_holders", parts, boolean, False),
        )
