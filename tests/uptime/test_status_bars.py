"""/status/: a 90-day bar per service, one cell per local day, in a fixed number of queries."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import ServiceTargets
from tests import factories
from tests.incidents.factories import IncidentFactory
from tests.uptime.conftest import NOW, sunday_window
from uptime.reports import status_bars


def at(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def cell(html, slug, day):
    """The title of the service's cell for ``day``."""
    section = html.split(f'class="uptime-service mb-3" data-service="{slug}"', 1)[1]
    found = re.search(rf'data-day="{day}" data-level="(\w+)"\s+title="([^"]*)"', section)
    return found[1], found[2]


def test_a_bar_of_90_days_with_figures_colours_and_a_text_alternative(client, clock, erp):
    """Thu 3 Dec 10:00–10:30 down: 1 − 30 / 1,440 = 97.916 % (partial). Sundays show their
    planned minutes. Over the 90 days (11 Sep – 9 Dec, 129,600 minutes, 13 Sundays = 1,560
    planned): 1 − 30 / 128,040 = 99.976 %."""
    IncidentFactory(service=erp, started_at=at(12, 3, 10), resolved_at=at(12, 3, 10, 30))
    html = client.get("/status/").content.decode()
    section = html.split('data-service="erp"', 2)[2]
    assert section.count('class="uptime-day ') == 90
    assert 'data-day="2026-09-11"' in section and 'data-day="2026-09-10"' not in section
    assert cell(html, "erp", "2026-12-03") == (
        "partial",
        "Thu 3 Dec 2026: 97.916 % available, 30 min down",
    )
    assert cell(html, "erp", "2026-12-06") == (
        "up",
        "Sun 6 Dec 2026: 100 % available, 0 min down, 120 min planned maintenance",
    )
    assert cell(html, "erp", "2026-12-09")[1].startswith("Wed 9 Dec 2026 (today, so far): 100 %")
    assert "99.976 % uptime" in section
    assert (
        'role="img"\n           aria-label="ERP: 99.976 % available from 11 September 2026 to '
        'today (UTC), 30 minutes of downtime on 1 day."' in section
    )
    assert "1 day with downtime" in section
    assert "Thu 3 Dec 2026: 97.916 % available, 30 min down</li>" in section


def test_an_ongoing_outage_shows_today_so_far(client, clock, erp):
    """Open since 11:00, now 12:00: 60 of today's 1,440 minutes, 95.833 %."""
    IncidentFactory(service=erp, started_at=at(12, 9, 11), resolved_at=None)
    html = client.get("/status/").content.decode()
    assert cell(html, "erp", "2026-12-09") == (
        "partial",
        "Wed 9 Dec 2026 (today, so far): 95.833 % available, 60 min down",
    )


def test_days_are_the_service_local_days_across_dst(db):
    """New York's 1 Nov 2026 lasts 25 hours (1,500 minutes): 75 minutes down is 95 %."""
    service = factories.ServiceFactory(slug="ny", name="NY", timezone="America/New_York")
    IncidentFactory(service=service, started_at=at(11, 1, 12), resolved_at=at(11, 1, 13, 15))
    [bar] = status_bars(services=[service], now=NOW)
    day = next(c for c in bar.cells if c.day == date(2026, 11, 1))
    assert day.availability.period.total_seconds() == 25 * 3600
    assert day.availability.percent == 95
    assert day.level == "partial"
    assert bar.cells[-1].day == date(2026, 12, 9) and len(bar.cells) == 90


@pytest.mark.parametrize(
    ("down_minutes", "level"), [(0, "up"), (14, "minor"), (72, "partial"), (73, "major")]
)
def test_colour_levels(db, down_minutes, level):
    """100 % up · ≥ 99 % minor (14.4 min a day) · ≥ 95 % partial (72 min) · below, major."""
    service = factories.ServiceFactory(slug="c", name="C", timezone="UTC")
    if down_minutes:
        IncidentFactory(
            service=service,
            started_at=at(12, 1, 0),
            resolved_at=at(12, 1, 0) + timedelta(minutes=down_minutes),
        )
    [bar] = status_bars(services=[service], now=NOW)
    assert next(c for c in bar.cells if c.day == date(2026, 12, 1)).level == level


def _services(count, first=0):
    services = []
    for n in range(first, first + count):
        service = factories.ServiceFactory(slug=f"s{n}", name=f"<b>S{n}</b>", timezone="UTC")
        ServiceTargets.objects.create(service=service, uptime=Decimal("99.9"))
        sunday_window(service)
        for day in (1, 2, 3):
            IncidentFactory(service=service, started_at=at(12, day, 9), resolved_at=at(12, day, 10))
        services.append(service)
    return services


def test_the_bars_read_three_queries_whatever_the_services_and_days(db):
    """Outages, windows, exceptions: three queries for 4 services × 90 days."""
    services = _services(4)
    with CaptureQueriesContext(connection) as queries:
        bars = status_bars(services=services, now=NOW)
    assert len(queries) == 3
    assert [len(bar.down_days) for bar in bars] == [3, 3, 3, 3]


def test_the_status_page_query_count_does_not_grow_with_services(client, clock, db):
    _services(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/status/").status_code == 200
    _services(4, first=1)
    with CaptureQueriesContext(connection) as five:
        html = client.get("/status/").content.decode()
    assert html.count('class="uptime-service mb-3"') == 5
    assert len(five) == len(one)
    # Service names are text, never markup.
    assert "<b>S1</b>" not in html and "&lt;b&gt;S1&lt;/b&gt;" in html
