"""A ticket write and a refresh of the rollup at the same time, on PostgreSQL: the rollup must
not keep an old figure for good.

The write lists its days as stale in its own transaction. If a committed row already listed
the day and the write relied on it, a refresh could take (delete) that row and recompute the
day before the write committed: the write's change would be in no figure and no stale row.
"""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction

from core import periods
from metrics import selectors
from metrics.models import StaleDay
from metrics.report import build_report
from metrics.services import rollup_refresh
from tickets.models import Ticket

from .conftest import at, make_ticket


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_before_a_write_commits_leaves_its_day_stale(metrics_service):
    now = datetime(2026, 12, 10, tzinfo=UTC)
    november = periods.containing(periods.MONTH, date(2026, 11, 1), "UTC")
    first = make_ticket(
        metrics_service, "P1", at(11, 2, 9), resolved_at=at(11, 3, 9), status="resolved"
    )
    second = make_ticket(
        metrics_service, "P1", at(11, 2, 10), resolved_at=at(11, 3, 10), status="resolved"
    )
    build_report(service=metrics_service, period=november, now=now)
    Ticket.objects.filter(pk=first.pk).update(rating=2)  # committed: 2 and 3 Nov listed
    assert StaleDay.objects.count() == 2

    written, refreshed, errors = threading.Event(), threading.Event(), []

    def write():
        try:
            with transaction.atomic():
                Ticket.objects.filter(pk=second.pk).update(rating=5)  # 3 Nov already listed
                written.set()
                assert refreshed.wait(20)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    def refresh():
        try:
            assert written.wait(20)
            rollup_refresh(service=metrics_service)  # takes 2 and 3 Nov; the write is pending
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            refreshed.set()
            connection.close()

    threads = [threading.Thread(target=write), threading.Thread(target=refresh)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors

    assert StaleDay.objects.exists()  # the write's own row survived the refresh
    build_report(service=metrics_service, period=november, now=now)
    rollup = selectors.rollup_resolved_by_week(service=metrics_service, period=november)
    tickets = list(selectors.resolved_by_week(service=metrics_service, period=november))
    assert [row["rating_sum"] for row in rollup] == [row["rating_sum"] for row in tickets] == [7]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ticket_committed_between_the_reports_reads_is_in_neither(metrics_service, monkeypatch):
    """The rollup counts running timers, a live read subtracts those due after now: a ticket
    committed by someone else between the two reads must not be subtracted uncounted (the
    report reads one snapshot)."""
    now = datetime(2026, 11, 20, tzinfo=UTC)
    november = periods.containing(periods.MONTH, date(2026, 11, 1), "UTC")
    make_ticket(metrics_service, "P1", at(11, 16, 9), response_due_at=at(11, 16, 10), status="open")
    before = build_report(service=metrics_service, period=november, now=now)
    live_read = selectors._due_after

    def commit_a_ticket_first(**kwargs):
        def write():
            try:
                make_ticket(
                    metrics_service,
                    "P1",
                    at(11, 16, 11),
                    response_due_at=now + timedelta(hours=1),
                    status="open",
                )
            finally:
                connection.close()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(20)
        return live_read(**kwargs)

    monkeypatch.setattr(selectors, "_due_after", commit_a_ticket_first)
    during = build_report(service=metrics_service, period=november, now=now)
    monkeypatch.setattr(selectors, "_due_after", live_read)
    assert Ticket.objects.count() == 2  # the writer did commit
    assert list(during.rows()) == list(before.rows())  # as of the snapshot: one overdue
    after = build_report(service=metrics_service, period=november, now=now)
    assert list(after.rows()) != list(before.rows())  # the next report sees the new ticket
