"""The admin's monthly uptime report: staff only, a month picker, a fixed number of queries."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import ServiceTargets
from tests import factories
from tests.incidents.factories import IncidentFactory
from tests.uptime.conftest import priorities, sunday_window

URL = "/admin/uptime/uptimereport/"
PLANS = Path(__file__).resolve().parents[2] / "plans"


def at(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def staff_client(client, clock, tier_groups):
    # Logged in at the pinned time: a session opened at the real time could have expired there.
    client.force_login(factories.StaffFactory(tier=1))
    return client


def row_of(html, slug, scope):
    table = html.split(f'data-service="{slug}"', 1)[1].split("</table>", 1)[0]
    return table.split(f'data-scope="{scope}"', 1)[1].split("</tr>", 1)[0]


def test_the_report_shows_availability_budget_and_result_per_service(staff_client, clock, erp):
    """November, down 1 Nov 01:00–02:30 with the 02:00 window: 60 minutes, 99.859 %,
    600 planned minutes, a 42.6-minute budget overspent by 17.4."""
    IncidentFactory(service=erp, started_at=at(11, 1, 1), resolved_at=at(11, 1, 2, 30))
    response = staff_client.get(URL, {"month": "2026-11"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Monthly uptime — November 2026" in html
    row = row_of(html, "erp", "Overall")
    cells = [c.split(">", 1)[1] for c in row.split("<td")[1:]]
    assert [c.split("<", 1)[0] for c in cells[:7]] == [
        "99.859",
        "99.9",
        "60",
        "600",
        "42.6",
        "-17.4",
        "",
    ]
    assert 'data-state="missed"' in html and "✘ missed" in row
    assert 'href="?month=2026-10"' in html and 'href="?month=2026-12"' in html


def test_per_priority_rows_where_the_plan_sets_them(staff_client, clock):
    service = factories.ServiceFactory(slug="xsafe", name="XSafe", timezone="UTC")
    p0 = priorities(service)[0]
    IncidentFactory(
        service=service, severity=p0, started_at=at(11, 2, 9), resolved_at=at(11, 2, 9, 5)
    )
    html = staff_client.get(URL, {"month": "2026-11"}).content.decode()
    assert "✘ missed" in row_of(html, "xsafe", "P0 — Critical")
    assert "✔ met" in row_of(html, "xsafe", "P1 — High")
    assert "✔ met" in row_of(html, "xsafe", "P2 — Medium")
    assert 'data-scope="P3' not in html  # no uptime promised for P3
    assert "no target" in row_of(html, "xsafe", "Overall")


def test_the_current_month_by_default_with_its_budget_left(staff_client, clock, erp):
    """9 Dec 12:00, open since 11:20: 40 of December's 44.16 budget minutes, 4.16 left."""
    IncidentFactory(service=erp, started_at=at(12, 9, 11, 20), resolved_at=None)
    html = staff_client.get(URL).content.decode()
    assert "Monthly uptime — December 2026" in html
    row = row_of(html, "erp", "Overall")
    assert ">4.16<" in row and "on track" in row


@pytest.mark.parametrize("month", ["2026-13", "november", "2026-11-01"])
def test_a_bad_month_is_refused_with_a_reason(staff_client, clock, erp, month):
    response = staff_client.get(URL, {"month": month})
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a month" in html and "data-service=" not in html


def test_service_names_and_a_bad_month_are_shown_as_text(staff_client, clock):
    factories.ServiceFactory(slug="rd", name="R&D <script>alert(1)</script>", timezone="UTC")
    html = staff_client.get(URL, {"month": "2026-11"}).content.decode()
    assert "<script>alert(1)" not in html
    assert "R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;" in html
    response = staff_client.get(URL, {"month": '"><script>alert(2)</script>'})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>alert(2)" not in html and "&lt;script&gt;alert(2)" in html


def test_staff_only(client, clock, erp, customer):
    assert client.get(URL).status_code == 302  # to the admin login
    client.force_login(customer)
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_tier_sees_it_in_the_admin_index_and_nobody_can_change_it(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert "Monthly uptime reports" in html and URL in html
    assert staff_client.get(URL + "add/").status_code == 404
    assert staff_client.get(URL + "1/change/").status_code == 404


def test_the_report_page_query_count_does_not_grow_with_services(staff_client, clock):
    def add(n):
        service = factories.ServiceFactory(slug=f"s{n}", name=f"S{n}", timezone="UTC")
        ServiceTargets.objects.create(service=service, uptime=Decimal("99.9"))
        priorities(service)
        sunday_window(service)
        IncidentFactory(service=service, started_at=at(11, 3, 9), resolved_at=at(11, 3, 10))

    add(0)
    with CaptureQueriesContext(connection) as one:
        staff_client.get(URL, {"month": "2026-11"})
    for n in range(1, 4):
        add(n)
    with CaptureQueriesContext(connection) as four:
        html = staff_client.get(URL, {"month": "2026-11"}).content.decode()
    assert html.count('class="uptime-report"') == 4
    assert len(four) == len(one)


def test_the_seed_plans_targets(staff_client, clock):
    """XSafe ERP: per-priority targets (P0–P2), no overall one; the other two plans: 99.9 %
    overall and no per-priority rows."""
    call_command("load_plan", *sorted(str(p) for p in PLANS.glob("*.yaml")), stdout=io.StringIO())
    html = staff_client.get(URL, {"month": "2026-11"}).content.decode()
    for scope in ("P0 — Critical", "P1 — High", "P2 — Medium"):
        assert "✔ met" in row_of(html, "xsafe-erp", scope)
    assert "no target" in row_of(html, "xsafe-erp", "Overall")
    for slug in ("legacy-estate-os", "roofing-platform"):
        assert "✔ met" in row_of(html, slug, "Overall")
        table = html.split(f'data-service="{slug}"', 1)[1].split("</table>", 1)[0]
        assert 'class="priority"' not in table
