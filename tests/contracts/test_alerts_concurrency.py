"""Staff logging time at the same moment: every threshold is recorded, each exactly once.

Needs PostgreSQL: each log locks the organisation's row before it sums the month, so the
writers queue and each sees the entries committed before it. Without that lock, four writers
starting from 10 h would each see 13 h, and neither threshold would ever be announced.
"""

from datetime import date, timedelta

import pytest

from contracts import services
from contracts.models import TimeEntry, UsageAlert
from contracts.selectors import organization_month_usage
from notifications.models import Notification
from tests import factories
from tests.concurrency import run_together
from tests.contracts.conftest import JANUARY, NOW
from tests.contracts.factories import OrganizationMemberFactory, TimeEntryFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tickets(org, member, service, priority):
    """Two members' tickets, so the writers share nothing but the organisation."""
    other = OrganizationMemberFactory(organization=org).user
    return [
        factories.TicketFactory(customer=customer, service=service, priority=priority)
        for customer in (member, other)
    ]


def used_before(org, ticket, staff, hours):
    TimeEntryFactory(
        ticket=ticket,
        organization=org,
        staff=staff,
        minutes=hours * 60,
        worked_at=NOW - timedelta(days=5),
    )


def outbox_keys():
    return sorted(
        Notification.objects.filter(key__startswith="contracts:").values_list("key", flat=True)
    )


@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_logs_cross_each_threshold_once(clock, org, tickets, manager, writers):
    """From 10 h of 20, ``writers`` staff log 12 h between them at the same moment: 80 % and
    100 % are each recorded once, for the entries that reached them, with one email per
    recipient (2 members and the manager)."""
    staff = [factories.StaffFactory(tier=1) for _ in range(writers)]
    used_before(org, tickets[0], staff[0], 10)
    each = 12 * 60 // writers

    def log(index):
        return lambda: services.time_entry_log(
            ticket=tickets[index % 2], by=staff[index], minutes=each
        )

    run_together(*[log(index) for index in range(writers)])

    assert TimeEntry.objects.count() == writers + 1
    assert organization_month_usage(organization=org, month=JANUARY).used_minutes == 22 * 60
    recorded = {
        alert.threshold: alert.used_minutes
        for alert in UsageAlert.objects.filter(organization=org, month=date(2026, 1, 1))
    }
    # Serialised, the sums go 10 h + each, + each, …: the first at or past 16 h and 20 h.
    steps = [10 * 60 + each * (n + 1) for n in range(writers)]
    assert recorded == {
        80: next(total for total in steps if total >= 16 * 60),
        100: next(total for total in steps if total >= 20 * 60),
    }
    keys = outbox_keys()
    assert len(keys) == len(set(keys)) == 2 * 3


def test_logging_again_and_again_concurrently_past_both_thresholds_sends_once(
    clock, org, tickets, manager
):
    """Six writers each crossing both thresholds on their own (from 15 h, 6 h each), twice
    over: still one 80 % and one 100 % email per recipient."""
    staff = [factories.StaffFactory(tier=1) for _ in range(6)]
    used_before(org, tickets[0], staff[0], 15)
    for _ in range(2):
        run_together(
            *[
                (lambda s=s, n=n: services.time_entry_log(ticket=tickets[n % 2], by=s, minutes=360))
                for n, s in enumerate(staff)
            ]
        )
    assert UsageAlert.objects.count() == 2
    keys = outbox_keys()
    assert len(keys) == len(set(keys)) == 2 * 3
