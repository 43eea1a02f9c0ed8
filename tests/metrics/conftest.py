"""A small, fixed month of tickets and incidents whose every figure is worked out by hand.

Service "metrics" (UTC), November 2026 (30 days = 720 h; 1 Nov is a Sunday, so its weeks
start on Mondays 26 Oct, 2, 9, 16, 23 and 30 Nov), the clock pinned on 10 December 2026.
Targets: MTTR ≤ 4 h, MTBF ≥ 720 h, first response ≤ 1 h, resolution rate ≥ 75 %, CSAT ≥ 4.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import CustomerFactory, PriorityFactory, ServiceFactory, TicketFactory

from .factories import IncidentFactory, ServiceTargetsFactory

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def at(month, day, hour=0, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def metrics_service(db):
    service = ServiceFactory(slug="metrics", name="Metrics service", timezone="UTC")
    PriorityFactory(
        service=service, code="P1", name="Critical", response="15m", resolution="4h", position=0
    )
    PriorityFactory(
        service=service, code="P2", name="High", response="1h", resolution="", position=1
    )
    ServiceTargetsFactory(service=service)
    return service


def make_ticket(service, code, created, **fields):
    priority = service.priorities.get(code=code)
    if "first_response" in fields:
        fields["first_response_at"] = created + fields.pop("first_response")
    if "resolved_after" in fields:
        fields["resolved_at"] = created + fields.pop("resolved_after")
        fields.setdefault("status", "resolved")
    return TicketFactory(
        service=service,
        priority=priority,
        customer=CustomerFactory(services=[service]),
        created_at=created,
        updated_at=created,
        **fields,
    )


def fill_november(service):
    """Sixty tickets over every day of November, two priorities, varied outcomes, and an
    outage a day: enough rows for a query count that grew with them to show."""
    for day in range(1, 31):
        for code in ("P1", "P2"):
            make_ticket(
                service,
                code,
                at(11, day, 9),
                first_response=timedelta(minutes=day),
                response_met=day % 3 != 0,
                resolved_after=timedelta(hours=day),
                rating=1 + day % 5,
            )
        IncidentFactory(service=service, started_at=at(11, day, 1))


@pytest.fixture
def november(metrics_service, now):
    """Seven tickets opened in November, one opened in October and resolved in November, the
    edges (1 Dec 00:00 and 31 Oct 23:59 are outside), one outage started in November."""
    s, m, h = metrics_service, timedelta(minutes=1), timedelta(hours=1)
    tickets = {
        # P1: response met (10 min), resolved in 3 h (met), rated 5.
        "t1": make_ticket(
            s,
            "P1",
            at(11, 2, 10),
            first_response=10 * m,
            response_met=True,
            resolved_after=3 * h,
            resolution_met=True,
            rating=5,
        ),
        # P1: response missed (30 min), resolved in 6 h (missed), rated 3.
        "t2": make_ticket(
            s,
            "P1",
            at(11, 9, 8),
            first_response=30 * m,
            response_met=False,
            resolved_after=6 * h,
            resolution_met=False,
            rating=3,
        ),
        # P1 opened on the last evening, resolved in December: in November's cohort, not in
        # its MTTR or CSAT.
        "t3": make_ticket(
            s,
            "P1",
            at(11, 30, 22),
            first_response=5 * m,
            response_met=True,
            resolved_after=3 * h,
            resolution_met=True,
            rating=4,
        ),
        # P2 (no resolution timer): answered in 50 min (met), resolved after 48 h, rated 4.
        "t4": make_ticket(
            s,
            "P2",
            at(11, 3, 9),
            first_response=50 * m,
            response_met=True,
            resolved_after=48 * h,
            rating=4,
        ),
        # P2 never answered, its deadline long past: a missed response though still running.
        "t5": make_ticket(s, "P2", at(11, 20, 12), status="open", response_due_at=at(11, 20, 13)),
        # P1 answered in 15 min (met); waiting on the customer, resolution timer paused: the
        # stored deadline is past, but a paused timer is not judged.
        "t7": make_ticket(
            s,
            "P1",
            at(11, 25, 10),
            first_response=15 * m,
            response_met=True,
            status="waiting_on_customer",
            resolution_due_at=at(11, 25, 14),
            paused_at=at(11, 25, 11),
        ),
        # P2 opened at the first instant of a Sunday, answered exactly on its deadline (met).
        "t8": make_ticket(
            s, "P2", at(11, 15), first_response=60 * m, response_met=True, status="open"
        ),
        # Opened in October, resolved in November after 120 h, rated 2.
        "t6": make_ticket(
            s,
            "P2",
            at(10, 28, 10),
            first_response=20 * m,
            response_met=True,
            resolved_after=120 * h,
            rating=2,
        ),
        # Outside November on both sides.
        "before": make_ticket(s, "P1", at(10, 31, 23, 59), status="open"),
        "after": make_ticket(s, "P1", at(12, 1), status="open"),
    }
    other = ServiceFactory(slug="other", timezone="UTC")
    other_priority = PriorityFactory(service=other, code="P1", position=0)
    TicketFactory(
        service=other,
        priority=other_priority,
        created_at=at(11, 10),
        resolved_at=at(11, 10, 1),
        status="resolved",
        rating=1,
    )
    IncidentFactory(service=s, started_at=at(11, 10), resolved_at=at(11, 10, 2))
    # Not counted: a degraded-only incident, an outage begun in October, another service's.
    IncidentFactory(service=s, outage=False, started_at=at(11, 12), resolved_at=at(11, 12, 5))
    IncidentFactory(service=s, started_at=at(10, 31, 23), resolved_at=at(11, 1, 1))
    IncidentFactory(service=other, started_at=at(11, 11))
    return tickets
