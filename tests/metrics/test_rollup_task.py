"""The beat task brings every outdated rollup up to date, so the dashboard's next read does not
refresh: never built, stale days, a changed zone; a second run finds nothing to do."""

from datetime import date

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import periods
from metrics.models import OpenedDay, RollupState, StaleDay
from metrics.report import build_report
from metrics.tasks import refresh_metrics_rollups
from tests.factories import PriorityFactory, ServiceFactory

from .conftest import at, fill_november, make_ticket


def _report_queries(service, now):
    november = periods.containing(periods.MONTH, date(2026, 11, 1), service.timezone)
    with CaptureQueriesContext(connection) as queries:
        report = build_report(service=service, period=november, now=now)
    return len(queries), list(report.rows())


@pytest.mark.django_db
def test_the_task_refreshes_what_a_report_would(metrics_service, now):
    other = ServiceFactory(slug="other", timezone="Europe/Paris")
    PriorityFactory(service=other, code="P1", response="1h", resolution="8h")
    fill_november(metrics_service)
    make_ticket(other, "P1", at(11, 4, 23, 30))

    assert refresh_metrics_rollups.apply().get() == 2  # neither was ever built
    assert not StaleDay.objects.exists()
    assert set(RollupState.objects.values_list("service__slug", "timezone")) == {
        ("metrics", "UTC"),
        ("other", "Europe/Paris"),
    }
    assert OpenedDay.objects.filter(service=metrics_service).count() == 60
    fresh, rows = _report_queries(metrics_service, now)
    assert fresh == 7  # no refresh left for the report

    assert refresh_metrics_rollups.apply().get() == 0  # nothing to do twice

    make_ticket(metrics_service, "P2", at(11, 30, 23))  # a write marks its day stale
    type(other).objects.filter(pk=other.pk).update(timezone="Asia/Kolkata")  # a zone change
    assert refresh_metrics_rollups.apply().get() == 2
    assert not StaleDay.objects.exists()
    assert RollupState.objects.get(service=other).timezone == "Asia/Kolkata"
    count, after = _report_queries(metrics_service, now)
    assert count == 7
    assert len(after) == len(rows)
    # The task's rollup gives the figures the tickets give.
    StaleDay.objects.all().delete()
    RollupState.objects.filter(service=metrics_service).update(timezone="rebuild-me")
    _, rebuilt = _report_queries(metrics_service, now)
    assert after == rebuilt


def test_beat_runs_the_task_every_five_minutes():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "metrics.tasks.refresh_metrics_rollups"
    ]
    assert [entry["schedule"] for entry in entries] == [300.0]
