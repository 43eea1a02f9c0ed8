"""The validated plan: a tree of frozen dataclasses with every default filled in.

Two files that mean the same thing validate to equal ``Plan`` objects, which is what the export
round trip relies on. Optional sections the file leaves out are ``None``.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

ALWAYS_OPEN = "24/7"

# The top-level sections of a plan file, in the order a file (and an export) lists them.
SECTIONS = (
    "service",
    "calendars",
    "priorities",
    "tiers",
    "escalation",
    "on_call",
    "maintenance",
    "routine_tasks",
    "incidents",
    "contracts",
    "targets",
    "alerts",
    "notify",
    "reports",
)


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    name: str
    timezone: str = "UTC"
    contact: str = ""
    inbound: tuple = ()  # more addresses whose mail opens tickets here (docs/email.md)
    phone: str = ""  # the support line shown to customers


@dataclass(frozen=True)
class HolidaySpec:
    date: dt.date
    name: str = ""


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    timezone: str
    # Canonical week: {"mon": (("09:00", "18:00"),), ...}; absent days are closed.
    hours: tuple
    holidays: tuple = ()

    @property
    def hours_dict(self):
        return {day: [list(interval) for interval in intervals] for day, intervals in self.hours}


@dataclass(frozen=True)
class PrioritySpec:
    code: str
    name: str
    response: str
    description: str = ""
    resolution: str | None = None
    calendar: str = ALWAYS_OPEN
    uptime: Decimal | None = None
    start_tier: int = 1
    notify_management: bool = False


@dataclass(frozen=True)
class TierSpec:
    level: int
    name: str
    scope: str = ""
    contact: str = ""
    calendar: str = ALWAYS_OPEN
    pickup: str | None = None
    on_call: bool = False


@dataclass(frozen=True)
class EscalationSpec:
    warn_at: Decimal | None = None
    management_chain: tuple = ()  # role names, in order
    # ((role, email), ...): the chain's entries written {role, email}, who holds the role from
    # the first load (sla.ManagementContact rows the plan owns).
    management_contacts: tuple = ()
    management_interval: str | None = None
    pause_statuses: tuple = ("waiting_on_customer",)


@dataclass(frozen=True)
class OnCallSpec:
    handoff: str = "mon 09:00"
    layers: tuple = ("primary",)
    acknowledge: str = ""  # a page to the primary unacknowledged this long goes to the secondary


@dataclass(frozen=True)
class WindowSpec:
    name: str
    start: dt.time
    duration: str
    timezone: str
    category: str = "general"
    rrule: str | None = None
    date: dt.date | None = None
    impact: str = ""


@dataclass(frozen=True)
class MaintenanceSpec:
    notices: tuple = ()
    channels: tuple = ("email", "banner")  # rules.DEFAULT_CHANNELS: what an omitted key means
    quarterly_digest: str | None = None
    allowed: str | None = None
    windows: tuple = ()


@dataclass(frozen=True)
class RoutineTaskSpec:
    name: str
    every: str
    category: str = "general"
    tier: int | None = None
    # ``every: on_release`` (docs/plans.md, extension): a dated item per release staff record,
    # due this long after it ("security patches applied within 7 days of release").
    within: str | None = None


@dataclass(frozen=True)
class RunbookSpec:
    """An incident type's procedure (docs/plans.md, extension): opening an incident of this
    ``type`` tells the ``notify`` roles at once and starts each deadline, from detection."""

    type: str
    name: str
    steps: tuple = ()
    notify: tuple = ()  # management_chain role names told when such an incident is opened
    deadlines: tuple = ()  # ((name, duration), ...): due that long after detection


@dataclass(frozen=True)
class IncidentsSpec:
    postmortem_due: str | None = None
    steps: tuple = ()
    runbooks: tuple = ()  # RunbookSpec


@dataclass(frozen=True)
class ContractSpec:
    name: str
    hours_per_month: int
    monthly_cost: Decimal
    currency: str = "USD"
    includes: str = ""


@dataclass(frozen=True)
class RecoveryClassSpec:
    name: str
    rto: str | None = None
    rpo: str | None = None


@dataclass(frozen=True)
class TargetsSpec:
    uptime: Decimal | None = None
    mttr: str | None = None
    mtbf: str | None = None
    first_response_avg: str | None = None
    resolution_rate: Decimal | None = None
    csat: Decimal | None = None
    rto: str | None = None
    rpo: str | None = None
    # Extensions (docs/plans.md).
    p95_response_ms: int | None = None
    error_rate: Decimal | None = None
    concurrent_users: int | None = None
    recovery: tuple = ()
    # The targets written with < or > ("MTTR < 4 hours"), by name, sorted: a value exactly on
    # one of these is missed. A bare value or <=, >= is reached by a value on it.
    strict: tuple = ()


@dataclass(frozen=True)
class AlertSourceSpec:
    """Monitoring that opens incidents: its hook is /hooks/alerts/<service>/<name>/."""

    name: str
    source: str
    secret_env: str
    severity: str
    # ((alert severity label, priority code), ...), sorted by label (JSON keeps no order).
    severity_map: tuple = ()
    auto_resolve: bool = False


@dataclass(frozen=True)
class NotifySpec:
    """Pages and chat messages sent for the plan's events (``events``, filtered)."""

    name: str
    kind: str
    secret_env: str
    events: tuple
    priorities: tuple = ()
    tiers: tuple = ()
    # kind webhook only: where to POST (the signing secret comes from ``secret_env``).
    url: str = ""
    # kind pagerduty only (docs/plans.md, extension): the variable holding the signing secret
    # of the PagerDuty webhook that acknowledges on-call pages (/hooks/pagerduty/<svc>/<name>/).
    webhook_secret_env: str = ""


REPORT_EVERY = ("monthly", "quarterly")


@dataclass(frozen=True)
class ReportsSpec:
    """The period reports (docs/plans.md, extension): emailed once each period is over."""

    every: tuple = REPORT_EVERY
    to: tuple = ()  # management_chain role names
    contract_holders: bool = False  # also the members of each organisation holding a contract


@dataclass(frozen=True)
class Plan:
    service: ServiceSpec
    priorities: tuple
    tiers: tuple
    calendars: tuple = ()
    escalation: EscalationSpec = field(default_factory=EscalationSpec)
    on_call: OnCallSpec | None = None
    maintenance: MaintenanceSpec | None = None
    routine_tasks: tuple = ()
    incidents: IncidentsSpec | None = None
    contracts: tuple = ()
    targets: TargetsSpec | None = None
    alerts: tuple = ()
    notify: tuple = ()
    reports: ReportsSpec | None = None
    source: str = field(default="", compare=False)
