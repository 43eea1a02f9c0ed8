"""The dashboard page and its CSV export: same figures, staff only, clear errors, few queries."""

import csv
import html
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory, PriorityFactory, StaffFactory

from .conftest import at, fill_november, make_ticket

PAGE = reverse("admin:metrics_successmetrics_changelist")
EXPORT = reverse("admin:metrics_successmetrics_export")
NOVEMBER = "?service=metrics&period=month&month=2026-11"


@pytest.fixture
def staff_client(client, now):
    """A Tier 1 member, signed in under the pinned clock (so the session is fresh then)."""
    client.force_login(StaffFactory(tier=1))
    return client


def page_figures(response):
    """``section|scope|metric`` → the value shown, read from the page's figure cells."""
    text = response.content.decode()
    return {
        html.unescape(key): html.unescape(value)
        for key, value in re.findall(r'data-figure="([^"]*)">([^<]*)', text)
    }


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_holds_exactly_the_figures_of_the_page(november, staff_client):
    page = staff_client.get(PAGE + NOVEMBER)
    export = staff_client.get(EXPORT + NOVEMBER)
    assert page.status_code == export.status_code == 200
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="metrics-metrics-20261101-20261130.csv"' in export["Content-Disposition"]
    rows = csv_rows(export)
    from_csv = {f"{r['section']}|{r['scope']}|{r['metric']}": r["value"] for r in rows}
    shown = page_figures(page)
    assert len(shown) == 5 + 5 + 3 * 7 + 6 * 2
    assert from_csv == shown
    # Spot checks of the hand-worked figures, with their number, target and marker.
    by_metric = {r["metric"]: r for r in rows if r["section"] == "targets"}
    assert [by_metric["mttr"][k] for k in ("value", "number", "unit", "target", "result")] == [
        "4 h 30 min",
        "270",
        "minutes",
        "≤ 4 h",
        "missed",
    ]
    assert [by_metric["first_response_avg"][k] for k in ("value", "result")] == ["28 min", "met"]
    assert {r["period"] for r in rows} == {"November 2026"}


def test_markers_show_met_and_missed_against_the_plan(november, staff_client):
    text = staff_client.get(PAGE + NOVEMBER).content.decode()
    results = dict(re.findall(r'<tr data-metric="(\w+)" data-result="([^"]*)">', text))
    assert results == {
        "first_response_avg": "met",
        "mttr": "missed",
        "mtbf": "met",
        "resolution_rate": "missed",
        "csat": "missed",
    }
    assert text.count("✔ met") == 2 and text.count("✘ missed") == 3


def test_an_empty_period_renders_dashes(metrics_service, staff_client):
    response = staff_client.get(PAGE + "?service=metrics&period=month&month=2026-03")
    assert response.status_code == 200
    shown = page_figures(response)
    assert shown["targets||mttr"] == shown["targets||csat"] == "—"
    assert shown["targets||mtbf"] == "no outage"
    assert shown["priority|All priorities|response_met"] == "—"
    export = csv_rows(staff_client.get(EXPORT + "?service=metrics&period=month&month=2026-03"))
    assert {r["value"] for r in export if r["metric"] == "csat"} == {"—"}


def test_without_parameters_this_month_of_the_first_service(metrics_service, staff_client):
    response = staff_client.get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Metrics service — December 2026" in text
    assert "The period is in progress: figures so far." in text
    november = staff_client.get(PAGE + NOVEMBER).content.decode()
    assert "in progress" not in november


@pytest.mark.parametrize(
    "query, heading, days",
    [
        ("period=quarter&quarter=2026-Q4", "Q4 2026", ("Thu 1 Oct 2026", "Thu 31 Dec 2026")),
        ("period=year&year=2026", "2026", ("Thu 1 Jan 2026", "Thu 31 Dec 2026")),
        (
            "period=custom&start=2026-11-09&end=2026-11-22",
            "2026-11-09 to 2026-11-22",
            ("Mon 9 Nov 2026", "Sun 22 Nov 2026"),
        ),
    ],
)
def test_quarter_year_and_custom_periods(november, staff_client, query, heading, days):
    response = staff_client.get(PAGE + "?service=metrics&" + query)
    text = response.content.decode()
    assert response.status_code == 200
    assert f"Metrics service — {heading}" in text
    assert f"{days[0]} to {days[1]}" in text


def test_custom_range_counts_only_its_days(november, staff_client):
    """9–22 Nov: t2 (9 Nov), t8 (15 Nov), t5 (20 Nov) opened."""
    shown = page_figures(
        staff_client.get(PAGE + "?service=metrics&period=custom&start=2026-11-09&end=2026-11-22")
    )
    assert shown["volume||opened"] == "3"


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("period=month&month=2026-13", "month", "is not a month"),
        ("period=quarter&quarter=2026-Q5", "quarter", "is not a quarter"),
        ("period=year&year=26", "year", "is not a year"),
        ("period=custom&start=2026-11-10&end=2026-11-01", "end", "ends before it starts"),
        ("period=custom&start=2024-01-01&end=2026-12-31", "end", "at most 731 days"),
        ("period=custom&start=2026-11-10", None, "needs both"),
        ("period=custom&start=2026-11-31&end=2026-12-01", "start", "valid date"),
        ("period=week", "period", "Select a valid choice"),
        ("service=nope", "service", "Select a valid choice"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    metrics_service, staff_client, query, field, message
):
    response = staff_client.get(PAGE + "?" + query)
    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert message in text
    if field:
        assert f'data-field="{field}"' in text
    assert 'data-figure="' not in text
    export = staff_client.get(EXPORT + "?" + query)
    assert export.status_code == 400
    assert export.content.decode().startswith("Nothing exported:")
    assert message in export.content.decode()


def test_anonymous_and_customers_are_sent_to_the_login(november, client):
    for url in (PAGE, EXPORT):
        response = client.get(url + NOVEMBER)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(CustomerFactory(services=[november["t1"].service]))
    for url in (PAGE, EXPORT):
        response = client.get(url + NOVEMBER)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_any_staff_member_sees_it_in_the_admin_index(november, staff_client):
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert PAGE in index and "Success metrics dashboard" in index
    # Read-only: nothing to add, change or delete through it.
    assert staff_client.get(PAGE + "add/").status_code == 404


def test_names_from_the_plan_are_escaped_on_the_page_and_defused_in_the_csv(
    metrics_service, staff_client
):
    PriorityFactory(service=metrics_service, code="P9", name="<script>x</script>", position=9)
    PriorityFactory(service=metrics_service, code="=1+1", name="formula", position=10)
    text = staff_client.get(PAGE + NOVEMBER).content.decode()
    assert "<script>x</script>" not in text
    assert "P9 — &lt;script&gt;x&lt;/script&gt;" in text
    scopes = {r["scope"] for r in csv_rows(staff_client.get(EXPORT + NOVEMBER))}
    assert "'=1+1 — formula" in scopes


def test_page_queries_do_not_grow_with_the_data(metrics_service, staff_client):
    """One ticket, or sixty over several weeks and priorities plus incidents: same queries."""

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(PAGE + NOVEMBER).status_code == 200
        return len(queries)

    make_ticket(metrics_service, "P1", at(11, 3), status="open")
    small = count()
    fill_november(metrics_service)
    assert count() == small
    # Session, user, the services the member works and the services for the picker, the
    # report's seven and the rollup's refresh after the tickets were written (six, and a
    # savepoint twice: tests/metrics/test_rollup.py), the admin's permission checks for its
    # menu (two) and the member's tier for the menu's Releases entry (one; any tier may
    # record a release).
    assert small == 4 + 7 + 8 + 3


@pytest.fixture
def seed_plans(db):
    plans = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "plans").glob("*.yaml"))
    call_command("load_plan", *plans, stdout=io.StringIO())


def test_the_seed_plans_targets_are_read_as_written(seed_plans, now, client):
    """Roofing sets MTTR < 4 h, MTBF > 720 h, first response < 4 h, > 95 %, > 4.5 (strict, as
    its seed words them); XSafe sets none."""
    client.force_login(StaffFactory(tier=1))
    text = client.get(PAGE + "?service=roofing-platform&period=month&month=2026-11")
    text = text.content.decode()
    targets = re.findall(
        r'data-metric="(\w+)" data-result="[^"]*">.*?<td class="num">([^<]*)</td>', text, re.S
    )
    assert {key: html.unescape(value) for key, value in targets} == {
        "first_response_avg": "< 4 h",
        "mttr": "< 4 h",
        "mtbf": "> 720 h",
        "resolution_rate": "> 95.0 %",
        "csat": "> 4.50 / 5",
    }
    assert "MTTR, P1 — Critical (most urgent priority)" in text
    xsafe = client.get(PAGE + "?service=xsafe-erp&period=month&month=2026-11").content.decode()
    assert set(re.findall(r'data-result="([^"]*)"', xsafe)) == {"no target"}
    assert "MTTR, P0 — Critical (most urgent priority)" in xsafe
