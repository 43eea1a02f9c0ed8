"""The rollup gives the figures computed from the tickets, exactly, however they change.

Random tickets (seeded, so a failure replays) in zones with DST, half-hour offsets and a fall
back across midnight; the report's rows from the rollup and from the tickets are compared for
months, quarters, a year, weeks and custom ranges, then again after the tickets are changed
behind the report's back (queryset updates, deletes, priority and zone changes): the triggers
must mark what changed. Runs on SQLite and on PostgreSQL alike (their triggers differ).
"""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import periods
from metrics import days, selectors
from metrics.models import OpenedDay, StaleDay
from metrics.report import build_report
from tests.concurrency import run_together
from tests.factories import CustomerFactory, PriorityFactory, ServiceFactory
from tickets.models import Ticket

from .conftest import at, fill_november, make_ticket

# Zone, and a day near which its clock changes in a way worth crowding tickets around.
ZONES = [
    ("UTC", date(2026, 3, 1)),
    ("America/New_York", date(2026, 11, 1)),  # falls back at 02:00
    ("Asia/Kolkata", date(2026, 6, 30)),  # +05:30: local midnight at 18:30 UTC
    ("Australia/Lord_Howe", date(2026, 4, 5)),  # half-hour DST
    ("America/Santiago", date(2026, 4, 5)),  # falls back at 24:00 to 23:00
    ("America/St_Johns", date(2010, 11, 7)),  # falls back at 00:01 to 23:01 the day before
]


def _moment(rng, around):
    base = datetime.combine(around, datetime.min.time(), tzinfo=UTC)
    if rng.random() < 0.5:  # crowd the transition
        return base + timedelta(minutes=rng.randint(-36 * 60, 36 * 60))
    return base + timedelta(minutes=rng.randint(-120 * 24 * 60, 120 * 24 * 60))


def _random_fields(rng, created):
    def maybe(value, chance=0.6):
        return value if rng.random() < chance else None

    after = lambda low, high: created + timedelta(minutes=rng.randint(low, high))  # noqa: E731
    resolved = maybe(after(1, 20 * 24 * 60), 0.5)
    return {
        "first_response_at": maybe(after(0, 600)),
        "response_met": rng.choice([True, False, None]),
        "response_due_at": maybe(after(-60, 40 * 24 * 60)),
        "resolution_met": rng.choice([True, False, None]),
        "resolution_due_at": maybe(after(-60, 60 * 24 * 60)),
        "paused_at": maybe(after(0, 3000), 0.3),
        "resolved_at": resolved,
        "rating": maybe(rng.randint(1, 5), 0.4) if resolved else None,
    }


def _periods(tz, around, rng):
    kinds = [periods.MONTH, periods.QUARTER, periods.YEAR, periods.WEEK, periods.DAY]
    result = [periods.containing(kind, around, tz) for kind in kinds]
    result += [periods.containing(periods.MONTH, around, tz).shifted(step) for step in (-2, 1)]
    for _ in range(4):
        first = around + timedelta(days=rng.randint(-90, 10))
        result.append(periods.custom(first, first + timedelta(days=rng.randint(0, 120)), tz))
    # A period starting, and one ending, on the transition's day and the day after it.
    result.append(periods.custom(around, around + timedelta(days=20), tz))
    result.append(periods.custom(around - timedelta(days=20), around, tz))
    result.append(periods.custom(around + timedelta(days=1), around + timedelta(days=3), tz))
    return result


def _by_key(rows):
    return {(row["week"], row["priority_id"]): dict(row) for row in rows}


def assert_same_figures(service, tz, around, rng, now):
    """Every period's rows from the rollup equal those from the tickets, and so the reports."""
    service.timezone = tz
    for period in _periods(tz, around, rng):
        build_report(service=service, period=period, now=now)  # refreshes the rollup
        assert_rollup_is_exact(service, period, now)


def assert_rollup_is_exact(service, period, now):
    opened = selectors.rollup_opened_by_week(service=service, period=period, now=now)
    expected = selectors.opened_by_week(service=service, period=period, now=now)
    assert _by_key(opened) == _by_key(expected), period
    resolved = selectors.rollup_resolved_by_week(service=service, period=period)
    expected = selectors.resolved_by_week(service=service, period=period)
    assert _by_key(resolved) == _by_key(expected), period


@pytest.mark.django_db
@pytest.mark.parametrize(("tz", "around"), ZONES)
def test_rollup_gives_the_tickets_figures(tz, around):
    rng = random.Random(f"{tz}{around}")
    service = ServiceFactory(timezone=tz)
    priorities = [
        PriorityFactory(service=service, code=f"P{n}", position=n).pk for n in range(1, 4)
    ]
    customer = CustomerFactory(services=[service])
    now = datetime.combine(around, datetime.min.time(), tzinfo=UTC) + timedelta(days=3)

    def new_ticket():
        created = _moment(rng, around)
        return Ticket(
            service=service,
            customer=customer,
            priority_id=rng.choice(priorities),
            subject="random",
            description="random",
            created_at=created,
            updated_at=created,
            **_random_fields(rng, created),
        )

    Ticket.objects.bulk_create([new_ticket() for _ in range(150)])
    assert_same_figures(service, tz, around, rng, now)

    # Changed behind the report's back, in every way a figure can change.
    ids = list(Ticket.objects.filter(service=service).values_list("pk", flat=True))
    for pk in rng.sample(ids, 40):
        created = _moment(rng, around)
        fields = _random_fields(rng, created)
        if rng.random() < 0.3:
            fields["created_at"] = created
        if rng.random() < 0.3:
            fields["priority_id"] = rng.choice(priorities)
        Ticket.objects.filter(pk=pk).update(**fields)
    Ticket.objects.filter(pk__in=rng.sample(ids, 10)).delete()
    new_ticket().save()
    assert_same_figures(service, tz, around, rng, now + timedelta(days=rng.randint(-5, 30)))
    # Read at the very instant a running timer is due: not overdue yet.
    pending = Ticket.objects.filter(
        service=service, response_met__isnull=True, response_due_at__isnull=False
    )
    assert_same_figures(service, tz, around, rng, pending.values_list("response_due_at")[0][0])

    # Another zone: the rollup's local days are rebuilt.
    other_tz, other_around = rng.choice([z for z in ZONES if z[0] != tz])
    type(service).objects.filter(pk=service.pk).update(timezone=other_tz)
    service.refresh_from_db()
    assert_same_figures(service, other_tz, around, rng, now)


@pytest.mark.django_db
def test_ticket_writes_mark_their_days_stale(metrics_service):
    """Creating, changing a figure's column and deleting a ticket list its UTC days (opened,
    resolved; before and after); a write no figure reads lists nothing."""

    def stale():
        found = set(StaleDay.objects.values_list("service_id", "day"))
        StaleDay.objects.all().delete()
        return found

    s = metrics_service.pk
    ticket = make_ticket(metrics_service, "P1", at(11, 2, 23), resolved_at=at(11, 4, 1))
    assert stale() == {(s, date(2026, 11, 2)), (s, date(2026, 11, 4))}
    Ticket.objects.filter(pk=ticket.pk).update(tier=2, subject="other", next_due_at=at(12, 1))
    assert stale() == set()
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=at(11, 6))
    assert stale() == {(s, date(2026, 11, 2)), (s, date(2026, 11, 4)), (s, date(2026, 11, 6))}
    Ticket.objects.filter(pk=ticket.pk).update(rating=4)
    assert stale() == {(s, date(2026, 11, 2)), (s, date(2026, 11, 6))}
    Ticket.objects.filter(pk=ticket.pk).update(response_due_at=at(11, 3))
    assert stale() == {(s, date(2026, 11, 2)), (s, date(2026, 11, 6))}
    Ticket.objects.filter(pk=ticket.pk).update(response_due_at=at(11, 4))  # still set
    assert stale() == set()
    Ticket.objects.filter(pk=ticket.pk).delete()
    assert stale() == {(s, date(2026, 11, 2)), (s, date(2026, 11, 6))}


def test_a_fall_back_across_midnight_is_noticed():
    """St. John's fell back at 00:01 to 23:01 until 2011: the period that starts (or ends)
    that day is not its dates' tickets; Santiago's 24:00 → 23:00 and New York's are."""
    nov_7 = periods.custom(date(2010, 11, 7), date(2010, 11, 30), "America/St_Johns")
    assert not days.period_matches_dates(nov_7)
    assert not days.period_matches_dates(
        periods.custom(date(2010, 11, 1), date(2010, 11, 6), "America/St_Johns")
    )
    assert days.period_matches_dates(
        periods.custom(date(2010, 11, 8), date(2010, 11, 30), "America/St_Johns")
    )
    for tz, day in (
        ("America/Santiago", date(2026, 4, 5)),
        ("America/New_York", date(2026, 11, 1)),
    ):
        for first in (day - timedelta(days=1), day, day + timedelta(days=1)):
            assert days.period_matches_dates(periods.custom(first, first, tz))


@pytest.mark.django_db
def test_queries_stay_fixed_whether_stale_or_not(metrics_service, now):
    """Fresh: the report reads the rollup's status and nothing else more; stale: a fixed six
    more to refresh it, however many tickets and days changed."""
    november = periods.containing(periods.MONTH, date(2026, 11, 1), "UTC")

    def count():
        with CaptureQueriesContext(connection) as queries:
            build_report(service=metrics_service, period=november, now=now)
        return len(queries)

    make_ticket(metrics_service, "P1", at(11, 3), status="open")
    first = count()  # built
    fresh = count()
    fill_november(metrics_service)
    assert count() == first
    assert count() == fresh
    # Targets, priorities, the rollup's status, its two tables, the timers due after now, the
    # outages; to refresh: the state's upsert, the stale days taken, a delete and an insert
    # per table (and the savepoint of the test's transaction, twice).
    assert (fresh, first) == (7, 7 + 6 + 2)
    assert OpenedDay.objects.filter(service=metrics_service).count() == 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_refresh_in_turn_and_agree(metrics_service):
    """Four reports find the rollup built in another zone at the same moment, while a ticket
    is written: they queue on the rollup's state row (each rebuild deletes and inserts every
    day: two at once would collide on the rollup's unique keys), none fails, and the rollup
    then gives the tickets' figures."""
    now = datetime(2026, 12, 10, tzinfo=UTC)
    fill_november(metrics_service)
    build_report(
        service=metrics_service,
        period=periods.containing(periods.MONTH, date(2026, 11, 1), "UTC"),
        now=now,
    )
    type(metrics_service).objects.filter(pk=metrics_service.pk).update(timezone="Europe/Paris")
    metrics_service.refresh_from_db()
    november = periods.containing(periods.MONTH, date(2026, 11, 1), "Europe/Paris")

    def report():
        return list(build_report(service=metrics_service, period=november, now=now).rows())

    def write():
        make_ticket(metrics_service, "P2", at(11, 7, 3), status="open")

    results = run_together(report, report, write, report, report)
    opened = {
        next(f.number for section, _, f in rows if section == "volume" and f.key == "opened")
        for rows in results
        if rows is not None
    }
    assert opened <= {60, 61}  # before or after the concurrent ticket, never anything else
    report()  # the ticket's day refreshed, if the reports all ran before it
    assert_rollup_is_exact(metrics_service, november, now)
