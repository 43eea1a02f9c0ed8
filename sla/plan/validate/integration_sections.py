"""The integration sections of a plan: ``alerts`` (monitoring in) and ``notify`` (pages out).

Both name secrets only by the environment variable that holds them (``secret_env``): a plan
file is shared and versioned, a token in it would be a leak. Whether the variable is set is
checked when the plan is applied (a warning, not an error: a plan may be loaded first).
"""

import re
from urllib.parse import urlsplit

from ..rules import RuleError
from ..spec import AlertSourceSpec, NotifySpec
from .values import boolean, integer, text

ALERT_SOURCES = ("alertmanager", "cloudwatch", "grafana", "uptime-kuma", "generic")
NOTIFY_KINDS = ("pagerduty", "slack", "teams", "webhook")
NOTIFY_EVENTS = (
    "ticket.created",
    "ticket.escalated",
    "sla.warned",
    "sla.breached",
    "incident.opened",
    "incident.updated",
    "incident.resolved",
    "maintenance.started",
    "maintenance.ended",
)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_NAME = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


def env_name(value):
    value = text(100)(value)
    if not _ENV_NAME.match(value):
        raise RuleError(
            f"{value!r} is not an environment variable name: capitals, digits and _, "
            "e.g. ALERTS_XSAFE_PROMETHEUS (the secret itself never goes in a plan)"
        )
    return value


def hook_name(value):
    value = text(50)(value)
    if not _NAME.match(value):
        raise RuleError(
            f"{value!r} is not usable in a URL: lowercase letters, digits, - and _, "
            "e.g. prod-prometheus"
        )
    return value


def one_of(choices, what):
    def check(value):
        value = text(30)(value)
        if value not in choices:
            raise RuleError(f"unknown {what} {value!r}; use one of: {', '.join(choices)}")
        return value

    return check


def webhook_url(value):
    value = text(2000)(value)
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RuleError(f"{value!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise RuleError("put no credentials in the URL: the signing secret is in secret_env")
    return value


class IntegrationSections:
    """Mixed into the checker: ``alerts`` and ``notify``."""

    def alerts(self, tree, codes):
        parts = ("alerts",)
        items = self.sequence(tree.get("alerts"), parts, tree.lines.get("alerts"))
        allowed = ("name", "source", "secret_env", "severity", "severity_map", "auto_resolve")

        def priority(value):
            value = text(20)(value)
            if codes and value not in codes:
                raise RuleError(f"{value!r} is not one of the plan's priority codes")
            return value

        result = []
        seen = {}
        required = ("name", "source", "secret_env", "severity")
        for here, node in self.entries(items, parts, allowed, required):
            name = self.field(node, "name", here, hook_name, "")
            self.unique(seen, name, node, "name", here, f"alert source {name!r}")
            severity_map = ()
            if "severity_map" in node:
                mapping = node["severity_map"]
                if not isinstance(mapping, dict):
                    self.error(
                        (*here, "severity_map"),
                        node.lines["severity_map"],
                        "expected a mapping of alert severity to priority code, "
                        "e.g. {critical: P0, warning: P2}",
                    )
                else:
                    pairs = []
                    for label, code in mapping.items():
                        try:
                            pairs.append((text(50)(label), priority(code)))
                        except RuleError as exc:
                            self.error(
                                (*here, "severity_map", label), mapping.lines[label], exc.message
                            )
                    severity_map = tuple(sorted(pairs))
            result.append(
                AlertSourceSpec(
                    name=name,
                    source=self.field(node, "source", here, one_of(ALERT_SOURCES, "source"), ""),
                    secret_env=self.field(node, "secret_env", here, env_name, ""),
                    severity=self.field(node, "severity", here, priority, ""),
                    severity_map=severity_map,
                    auto_resolve=self.field(node, "auto_resolve", here, boolean, False),
                )
            )
        return tuple(result)

    def notify(self, tree, codes, levels):
        parts = ("notify",)
        items = self.sequence(tree.get("notify"), parts, tree.lines.get("notify"))
        allowed = (
            "name",
            "kind",
            "secret_env",
            "events",
            "priorities",
            "tiers",
            "url",
            "webhook_secret_env",
        )

        def priority(value):
            value = text(20)(value)
            if codes and value not in codes:
                raise RuleError(f"{value!r} is not one of the plan's priority codes")
            return value

        def tier(value):
            value = integer(1, 9)(value)
            if levels and value not in levels:
                raise RuleError(f"tier {value} is not one of the plan's tier levels")
            return value

        result = []
        seen = {}
        required = ("name", "kind", "secret_env", "events")
        for here, node in self.entries(items, parts, allowed, required):
            name = self.field(node, "name", here, hook_name, "")
            self.unique(seen, name, node, "name", here, f"notify entry {name!r}")
            kind = self.field(node, "kind", here, one_of(NOTIFY_KINDS, "kind"), "")
            url = self.field(node, "url", here, webhook_url, "")
            if kind == "webhook" and not url and "url" not in node:
                self.error((*here, "url"), node.line, "a webhook needs `url:` (where to POST)")
            if kind and kind != "webhook" and "url" in node:
                self.error(
                    (*here, "url"),
                    node.lines["url"],
                    f"a {kind} destination takes no `url:`: its URL or key is a secret, "
                    "read from secret_env",
                )
            webhook_env = self.field(node, "webhook_secret_env", here, env_name, "")
            if kind and kind != "pagerduty" and "webhook_secret_env" in node:
                self.error(
                    (*here, "webhook_secret_env"),
                    node.lines["webhook_secret_env"],
                    f"a {kind} destination takes no `webhook_secret_env:`: only PagerDuty "
                    "posts acknowledgements back",
                )
            events = self.text_list(node, "events", here, one_of(NOTIFY_EVENTS, "event"))
            if "events" in node and not events and node["events"] is not None:
                self.error((*here, "events"), node.lines["events"], "must list at least one event")
            result.append(
                NotifySpec(
                    name=name,
                    kind=kind,
                    secret_env=self.field(node, "secret_env", here, env_name, ""),
                    events=events,
                    priorities=self.text_list(node, "priorities", here, priority),
                    tiers=self.text_list(node, "tiers", here, tier),
                    url=url if kind == "webhook" else "",
                    webhook_secret_env=webhook_env if kind == "pagerduty" else "",
                )
            )
        return tuple(result)
