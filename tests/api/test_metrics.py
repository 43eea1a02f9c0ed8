"""Success metrics through the API (GET /api/v1/services/{slug}/metrics/): the admin
dashboard's figures for a period, read through the dashboard's own parsing and report (the CSV
export's rows, figure for figure), for staff of the service only, refused input a 400.

The data is tests/metrics' hand-worked November 2026 (see its conftest), the clock pinned on
10 December 2026.
"""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import periods
from metrics.forms import DashboardForm
from metrics.report import build_report
from tests import factories
from tests.api.conftest import ApiClient, make_token
from tests.metrics import conftest as metrics_data
from tests.metrics.conftest import NOW, at, fill_november, make_ticket

pytestmark = pytest.mark.django_db

# tests/metrics' fixtures: the pinned clock, the service with its plan targets, November's data.
now = metrics_data.now
metrics_service = metrics_data.metrics_service
november = metrics_data.november

URL = "/api/v1/services/metrics/metrics/"
NOVEMBER = {"period": "month", "month": "2026-11"}
EXPORT = reverse("admin:metrics_successmetrics_export")


@pytest.fixture
def member(now):
    """A Tier 1 member working every service (the dashboard: any tier reads the metrics)."""
    return factories.StaffFactory(tier=1)


@pytest.fixture
def staff_api(member):
    return ApiClient(make_token(member, scope="read")[1])


def api_rows(body):
    """``section|scope|metric`` → the figure's fields, in the CSV's order (Report.rows)."""
    rows = {}
    for section, figures in (("targets", body["targets"]), ("volume", body["volume"])):
        for item in figures:
            rows[f"{section}||{item['key']}"] = item
    for row in body["priorities"]:
        for item in row["figures"]:
            rows[f"priority|{row['label']}|{item['key']}"] = item
    for week in body["weeks"]:
        for item in (week["opened"], week["resolved"]):
            rows[f"week|{week['label']}|{item['key']}"] = item
    return rows


def as_line(item):
    """An API figure as the CSV export writes it: (value, number, unit, detail, target,
    result), the number as a Decimal so that 4.0 (JSON) and 4.00 (CSV) compare equal."""
    number = item["number"]
    return (
        item["display"],
        None if number is None else Decimal(str(number)),
        item["unit"],
        item["detail"],
        item["target"]["display"] if item["target"] else "",
        item["result"] or "",
    )


def test_figures_are_the_dashboards_report_and_csv_export(november, member, staff_api, client):
    """Every figure equals the dashboard's own report for the period (build_report) and the
    line of the CSV export the admin gives the same member, in the same order."""
    response = staff_api.get(URL, NOVEMBER)
    assert response.status_code == 200, response.content
    body = response.json()
    period = periods.containing(periods.MONTH, date(2026, 11, 1), "UTC")
    report = build_report(service=metrics_service_of(november), period=period, now=NOW)
    expected = {
        f"{section}|{scope}|{item.key}": (
            item.display,
            item.number if item.number is None else Decimal(item.number),
            item.unit,
            item.detail,
            item.target_display,
            item.result,
        )
        for section, scope, item in report.rows()
    }
    ours = {key: as_line(item) for key, item in api_rows(body).items()}
    assert list(ours) == list(expected)
    assert ours == expected
    assert len(ours) == 5 + 5 + 3 * 7 + 6 * 2

    client.force_login(member)
    export = client.get(EXPORT, {"service": "metrics", **NOVEMBER})
    assert export.status_code == 200
    from_csv = {
        f"{r['section']}|{r['scope']}|{r['metric']}": (
            r["value"],
            Decimal(r["number"]) if r["number"] else None,
            r["unit"],
            r["detail"],
            r["target"],
            r["result"],
        )
        for r in csv.DictReader(io.StringIO(export.content.decode()))
    }
    assert from_csv == ours
    assert body["service"] == "metrics"
    assert body["period"] == {
        "kind": "month",
        "value": "2026-11",
        "label": "November 2026",
        "first_day": "2026-11-01",
        "last_day": "2026-11-30",
        "timezone": "UTC",
        "start": "2026-11-01T00:00:00Z",
        "end": "2026-12-01T00:00:00Z",
    }
    assert body["in_progress"] is False


def metrics_service_of(tickets):
    return tickets["t1"].service


def test_hand_worked_figures_with_their_targets(november, staff_api):
    """MTTR (P1 resolved in November: 3 h and 6 h) = 4 h 30 min, over the plan's 4 h; first
    response (10 + 30 + 5 + 50 + 15 + 60 min over 6) = 28 min, within 1 h; resolution rate
    4 of 7 = 57.1 %; P1's response met 3 of 4 = 75 %; 2 opened in the week of 2 November."""
    body = staff_api.get(URL, NOVEMBER).json()
    targets = {item["key"]: item for item in body["targets"]}
    assert targets["mttr"] == {
        "key": "mttr",
        "label": "MTTR, P1 — Critical (most urgent priority)",
        "number": 270,
        "unit": "minutes",
        "display": "4 h 30 min",
        "detail": "2 resolved in the period",
        "target": {"number": 240, "display": "≤ 4 h", "higher_is_better": False, "strict": False},
        "result": "missed",
    }
    assert (targets["first_response_avg"]["number"], targets["first_response_avg"]["result"]) == (
        28,
        "met",
    )
    assert targets["resolution_rate"]["number"] == 57.1
    assert targets["resolution_rate"]["target"]["display"] == "≥ 75.0 %"
    assert targets["csat"]["number"] == 3.5 and targets["csat"]["display"] == "3.50 / 5"
    p1 = {f["key"]: f for f in body["priorities"][0]["figures"]}
    assert body["priorities"][0]["label"] == "P1 — Critical"
    assert (p1["response_met"]["number"], p1["response_met"]["detail"]) == (75.0, "3 of 4")
    assert p1["response_met"]["result"] is None and p1["response_met"]["target"] is None
    weeks = {week["monday"]: week for week in body["weeks"]}
    assert weeks["2026-11-02"]["opened"]["number"] == 2 and not weeks["2026-11-02"]["partial"]
    assert weeks["2026-10-26"]["partial"] and weeks["2026-11-30"]["partial"]


@pytest.mark.parametrize(
    "query, label, first, last",
    [
        ({"period": "quarter", "quarter": "2026-Q4"}, "Q4 2026", "2026-10-01", "2026-12-31"),
        ({"period": "year", "year": "2026"}, "2026", "2026-01-01", "2026-12-31"),
        (
            {"period": "custom", "start": "2026-11-09", "end": "2026-11-22"},
            "2026-11-09 to 2026-11-22",
            "2026-11-09",
            "2026-11-22",
        ),
        # Left out, as on the page: this month on the service's clock, in progress.
        ({}, "December 2026", "2026-12-01", "2026-12-31"),
        # The path names the service; a ``service`` parameter changes nothing.
        ({"service": "other", **NOVEMBER}, "November 2026", "2026-11-01", "2026-11-30"),
    ],
)
def test_the_dashboards_periods(november, staff_api, query, label, first, last):
    body = staff_api.get(URL, query).json()
    assert (body["period"]["label"], body["period"]["first_day"], body["period"]["last_day"]) == (
        label,
        first,
        last,
    )
    assert body["in_progress"] is (label in ("December 2026", "Q4 2026", "2026"))
    if query.get("period") == "custom":
        # 9–22 Nov: t2, t8 and t5 were opened.
        assert {f["key"]: f for f in body["volume"]}["opened"]["number"] == 3


@pytest.mark.parametrize(
    "query, field",
    [
        ({"period": "month", "month": "2026-13"}, "month"),
        ({"period": "quarter", "quarter": "2026-Q5"}, "quarter"),
        ({"period": "year", "year": "26"}, "year"),
        ({"period": "year", "year": "99999"}, "year"),
        ({"period": "custom", "start": "2026-11-10", "end": "2026-11-01"}, "end"),
        ({"period": "custom", "start": "2024-01-01", "end": "2026-12-31"}, "end"),
        ({"period": "custom", "start": "2026-11-10"}, "non_field_errors"),
        ({"period": "custom", "start": "2026-11-31", "end": "2026-12-01"}, "start"),
        ({"period": "week"}, "period"),
    ],
)
def test_bad_periods_are_a_400_with_the_dashboards_message(
    metrics_service, member, staff_api, query, field
):
    """Refused exactly as the dashboard's form refuses it, field by field, with no figures."""
    response = staff_api.get(URL, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and "targets" not in body
    form = DashboardForm(
        {"service": "metrics", **query},
        services=[metrics_service],
        today=lambda service: NOW.date(),
    )
    assert not form.is_valid()
    expected = {("non_field_errors" if k == "__all__" else k): v for k, v in form.errors.items()}
    assert body["errors"] == expected
    assert list(body["errors"]) == [field]


def test_only_staff_of_the_service_read_it(november, now):
    """Any tier reads the metrics of a service it works; a member limited to other services
    gets the 404 of a slug that does not exist; customers never read metrics: their own
    service's is 403, another's 404."""
    other = november["t1"].service.__class__.objects.get(slug="other")
    tier3_elsewhere = ApiClient(make_token(factories.StaffFactory(tier=3, services=[other]))[1])
    missing = tier3_elsewhere.get("/api/v1/services/nope/metrics/", NOVEMBER)
    refused = tier3_elsewhere.get(URL, NOVEMBER)
    assert missing.status_code == refused.status_code == 404
    assert refused.json()["detail"] == missing.json()["detail"] == "No such service."
    assert tier3_elsewhere.get("/api/v1/services/other/metrics/", NOVEMBER).status_code == 200
    tier1_here = factories.StaffFactory(tier=1, services=[november["t1"].service])
    assert ApiClient(make_token(tier1_here)[1]).get(URL, NOVEMBER).status_code == 200

    own = ApiClient(make_token(factories.CustomerFactory(services=[november["t1"].service]))[1])
    response = own.get(URL, NOVEMBER)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Only staff may do this."
    stranger = ApiClient(make_token(factories.CustomerFactory(services=[other]))[1])
    response = stranger.get(URL, NOVEMBER)
    assert response.status_code == 404 and response.json()["detail"] == "No such service."
    assert ApiClient().get(URL, NOVEMBER).status_code == 401


def test_etag_and_304(november, staff_api):
    first = staff_api.get(URL, NOVEMBER)
    tag = first["ETag"]
    again = staff_api.get(URL, NOVEMBER, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again["ETag"] == tag
    assert staff_api.get(URL, {"period": "month", "month": "2026-10"})["ETag"] != tag


def test_queries_do_not_grow_with_the_data(metrics_service, staff_api):
    """One ticket, or sixty over six weeks and two priorities plus thirty outages: same count."""

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert staff_api.get(URL, NOVEMBER).status_code == 200
        return len(queries)

    make_ticket(metrics_service, "P1", at(11, 3), status="open")
    staff_api.get(URL, NOVEMBER)  # the token's last use is written once a minute
    # Both counts after tickets were written: the rollup's refresh included in each.
    make_ticket(metrics_service, "P2", at(11, 4), status="open")
    small = count()
    fill_november(metrics_service)
    assert count() == small
    # The token (with its user), the member's tier, the services they work and the services
    # for the choice, then the report's seven (targets, priorities, the rollup's status, two
    # over the rollup, one over the timers due after now, one over incidents) and the
    # rollup's refresh after the tickets were written (six, and a savepoint twice:
    # tests/metrics/test_rollup.py).
    assert small == 4 + 7 + 8
