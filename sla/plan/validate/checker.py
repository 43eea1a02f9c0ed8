"""The plan checker: structure checks plus one method per section, assembled into a ``Plan``."""

from ..spec import ALWAYS_OPEN, SECTIONS, Plan
from .base import CheckerBase
from .integration_sections import IntegrationSections
from .operations_sections import OperationsSections
from .sla_sections import SlaSections


class PlanChecker(CheckerBase, SlaSections, OperationsSections, IntegrationSections):
    def plan(self, tree):
        """The whole plan: sections checked in the order later ones depend on (calendars before
        tiers and priorities, tier levels before routine tasks)."""
        allowed = SECTIONS
        self.mapping(tree, (), tree.line, allowed, required=("service", "priorities", "tiers"))
        service = self.service(tree)
        calendars = self.calendars(tree, service.timezone)
        calendar_names = {ALWAYS_OPEN} | {calendar.name for calendar in calendars}
        tiers = self.tiers(tree, calendar_names)
        levels = {tier.level for tier in tiers}
        escalation = self.escalation(tree)
        priorities = self.priorities(tree, calendar_names, levels, escalation)
        codes = {priority.code for priority in priorities}
        return Plan(
            service=service,
            calendars=calendars,
            priorities=priorities,
            tiers=tiers,
            escalation=escalation,
            on_call=self.on_call(tree),
            maintenance=self.maintenance(tree, service.timezone),
            routine_tasks=self.routine_tasks(tree, levels),
            incidents=self.incidents(tree, escalation),
            contracts=self.contracts(tree),
            targets=self.targets(tree),
            alerts=self.alerts(tree, codes),
            notify=self.notify(tree, codes, levels),
            reports=self.reports(tree, escalation),
            source=self.file,
        )
