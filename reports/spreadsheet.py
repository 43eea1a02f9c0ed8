"""The report's CSV attachment: the success-metrics dashboard's CSV (``metrics.export``), then
the report's other figures in the same columns, one line each."""

import csv
import io

from metrics.export import write_csv
from uptime.figures import minutes_text, percent_text

# A cell starting with one of these is a formula to a spreadsheet (as in metrics.export).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value):
    value = str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def report_csv(report):
    out = io.StringIO()
    write_csv(out, report.metrics)
    writer = csv.writer(out)
    period, service = report.period, report.service

    def row(
        section, scope, metric, label, value, number="", unit="", detail="", target="", result=""
    ):
        writer.writerow(
            [
                _text(service.slug),
                _text(period.label),
                period.first.isoformat(),
                period.last.isoformat(),
                service.timezone,
                section,
                _text(scope),
                metric,
                _text(label),
                _text(value),
                number,
                unit,
                _text(detail),
                _text(target),
                result,
            ]
        )

    for line in [report.uptime.overall, *report.uptime.priorities]:
        availability = line.availability
        row(
            "uptime",
            line.label,
            "availability",
            f"Availability, {line.scope}",
            f"{percent_text(availability.percent)} %",
            str(availability.percent),
            "percent",
            f"{minutes_text(availability.downtime_minutes)} min down",
            "" if line.target is None else f"{percent_text(line.target)} %",
            line.state,
        )
    budget = report.year.overall
    if budget.target is not None:
        row(
            "budget",
            str(report.year.period.label),
            "downtime_budget",
            "Yearly downtime budget",
            f"{minutes_text(budget.budget_minutes)} min",
            str(budget.budget_minutes),
            "minutes",
            f"used {minutes_text(budget.availability.downtime_minutes)} min, "
            f"left {minutes_text(budget.left_minutes)} min",
            f"{percent_text(budget.target)} %",
            budget.state,
        )
    for usage in report.usage:
        row(
            "contract",
            usage.organization.name,
            "hours_used",
            f"Support hours, {usage.month:%B %Y} ({usage.contract.name})",
            f"{usage.used_hours} of {usage.included_hours} h",
            str(usage.used_minutes),
            "minutes",
            f"{usage.percent} %" if usage.percent is not None else "",
        )
    for name, value in vars(report.routine).items():
        row(
            "routine",
            "",
            f"routine_{name}",
            f"Routine items {name.replace('_', ' ')}",
            value,
            str(value),
            "count",
        )
    for name, value in vars(report.incidents).items():
        row("incidents", "", name, name.replace("_", " ").capitalize(), value, str(value), "count")
    return out.getvalue()
