"""The dashboard as CSV: one line per figure of the page, shown text and number side by side."""

import csv

HEADER = [
    "service",
    "period",
    "first_day",
    "last_day",
    "timezone",
    "section",
    "scope",
    "metric",
    "label",
    "value",
    "number",
    "unit",
    "detail",
    "target",
    "result",
]
# A cell starting with one of these is a formula to a spreadsheet; priority names and labels
# come from plan files, so they are defused with a leading apostrophe (OWASP's advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value):
    value = str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csv(out, report):
    period, service = report.period, report.service
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for section, scope, item in report.rows():
        writer.writerow(
            [
                _text(service.slug),
                _text(period.label),
                period.first.isoformat(),
                period.last.isoformat(),
                service.timezone,
                section,
                _text(scope),
                item.key,
                _text(item.label),
                _text(item.display),
                "" if item.number is None else str(item.number),
                item.unit,
                _text(item.detail),
                _text(item.target_display),
                item.result,
            ]
        )
