"""Chart geometry for the dashboard's server-rendered SVG (no JavaScript, nothing from a CDN).

Pure functions from the report's figures to shapes in SVG user units; the templates under
``templates/metrics/`` draw them, so every label goes through Django's autoescaping.
"""

import math
from dataclasses import dataclass

WIDTH = 760
LEFT, RIGHT, TOP, BOTTOM = 44, 24, 12, 34
MAX_X_LABELS = 14


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # css class: opened / resolved / response / resolution
    title: str  # the tooltip, and what a screen reader gets


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    bars: list
    grid: list  # Tick: horizontal gridlines with their value label
    labels: list  # Tick: category labels


def nice_ceiling(value):
    """The chart's top: four gridline steps of 1, 2 or 5 × 10^k, the smallest reaching
    ``value`` (so every gridline is a whole number)."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if 4 * step * magnitude >= value:
                return 4 * step * magnitude
        magnitude *= 10


def weekly_chart(weeks, height=220):
    """Opened and resolved tickets per week, side by side."""
    top = nice_ceiling(max([w.opened.number for w in weeks] + [w.resolved.number for w in weeks]))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = height - TOP - BOTTOM
    slot = plot_w / max(len(weeks), 1)
    bar_w = max(slot * 0.38, 1)
    every = math.ceil(len(weeks) / MAX_X_LABELS) or 1
    bars, labels = [], []
    for i, week in enumerate(weeks):
        x0 = LEFT + i * slot + slot * 0.1
        for offset, item in ((0, week.opened), (bar_w, week.resolved)):
            h = plot_h * item.number / top
            bars.append(
                Bar(
                    round(x0 + offset, 2),
                    round(TOP + plot_h - h, 2),
                    round(bar_w, 2),
                    round(h, 2),
                    item.key,
                    f"week of {week.monday:%d %b %Y}: {item.number:,} {item.key}",
                )
            )
        if i % every == 0:
            labels.append(
                Tick(
                    round(LEFT + (i + 0.5) * slot, 2), height - BOTTOM + 16, f"{week.monday:%d %b}"
                )
            )
    grid = [
        Tick(LEFT - 6, round(TOP + plot_h - plot_h * k / 4, 2), f"{top * k // 4:,}")
        for k in range(5)
    ]
    return Chart(WIDTH, height, LEFT, WIDTH - RIGHT, TOP, TOP + plot_h, bars, grid, labels)


def compliance_chart(rows, label_width=170):
    """Response and resolution met % per priority, as horizontal bars on a 0–100 % scale."""
    row_h, bar_h = 34, 12
    height = TOP + row_h * len(rows) + BOTTOM
    left, plot_w = label_width, WIDTH - label_width - RIGHT
    bars, labels = [], []
    for i, row in enumerate(rows):
        y0 = TOP + i * row_h + 4
        labels.append(Tick(left - 8, y0 + bar_h + 2, row.label))
        for offset, item in (
            (0, row.figures["response_met"]),
            (bar_h + 2, row.figures["resolution_met"]),
        ):
            share = float(item.number) if item.number is not None else 0.0
            bars.append(
                Bar(
                    left,
                    y0 + offset,
                    round(plot_w * share / 100, 2),
                    bar_h,
                    item.key,
                    f"{row.label}: {item.label.lower()} {item.display}"
                    + (f" ({item.detail})" if item.detail else ""),
                )
            )
    plot_bottom = TOP + row_h * len(rows)
    grid = [
        Tick(round(left + plot_w * k / 4, 2), plot_bottom + 16, f"{25 * k} %") for k in range(5)
    ]
    return Chart(WIDTH, height, left, WIDTH - RIGHT, TOP, plot_bottom, bars, grid, labels)
