"""The SVG charts: a readable scale, bars in proportion, every label escaped."""

import pytest
from django.urls import reverse

from metrics.charts import compliance_chart, nice_ceiling, weekly_chart
from tests.factories import StaffFactory

from .test_report import november_report


@pytest.mark.parametrize(
    "largest, top", [(0, 4), (3, 4), (4, 4), (5, 8), (9, 20), (130, 200), (10_080, 20_000)]
)
def test_the_scale_has_four_whole_steps_reaching_the_largest_bar(largest, top):
    assert nice_ceiling(largest) == top


def test_weekly_bars_are_in_proportion_to_the_counts(november, metrics_service):
    report = november_report(metrics_service)
    chart = weekly_chart(report.weeks)
    bars = {bar.title: bar for bar in chart.bars}
    plot = chart.plot_bottom - chart.plot_top
    # The largest count is 3, so the scale tops at 4: 3 resolved fill three quarters.
    three = bars["week of 02 Nov 2026: 3 resolved"]
    assert three.height == pytest.approx(plot * 3 / 4)
    assert three.y + three.height == pytest.approx(chart.plot_bottom)
    assert bars["week of 26 Oct 2026: 0 opened"].height == 0
    assert [tick.text for tick in chart.grid] == ["0", "1", "2", "3", "4"]
    assert len(chart.bars) == 2 * len(report.weeks)


def test_compliance_bars_span_their_percentage(november, metrics_service):
    chart = compliance_chart(november_report(metrics_service).priorities)
    width = chart.plot_right - chart.plot_left
    p1_response = next(b for b in chart.bars if b.title.startswith("P1 — Critical: response"))
    assert p1_response.width == pytest.approx(width * 0.75, abs=0.01)
    no_timer = next(b for b in chart.bars if b.title.startswith("P2 — High: resolution"))
    assert no_timer.width == 0 and no_timer.title.endswith("no timer")


def test_charts_are_inline_svg_with_no_script_or_remote_asset(november, client):
    client.force_login(StaffFactory(tier=2))
    text = client.get(
        reverse("admin:metrics_successmetrics_changelist")
        + "?service=metrics&period=month&month=2026-11"
    ).content.decode()
    assert text.count('<svg class="metrics-chart"') == 2
    assert "<title>week of 02 Nov 2026: 3 resolved</title>" in text
    assert "cdn" not in text.lower()
