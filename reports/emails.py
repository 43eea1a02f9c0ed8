"""The period report email: HTML and text from templates, the CSV attached."""

from notifications.models import Notification
from notifications.rendering import absolute_url
from notifications.services import notification_create, notification_key

from .spreadsheet import report_csv


def report_key(report, address):
    """Unique per (report, period, recipient): ``report:<service>:<2027-01 | 2027-Q1>:<to>``."""
    return notification_key(f"report:{report.service.slug}:{report.period.value}", address)


def period_report(report, *, addresses, audience):
    """One outbox row per address (already recorded ones are left alone); returns how many
    were new. ``audience``: "management" or the organisation's name (its own hours only)."""
    attachment = (
        f"{report.service.slug}-{report.period.value}.csv",
        "text/csv",
        report_csv(report),
    )
    context = {
        "report": report,
        "audience": audience,
        "uptime_lines": [report.uptime.overall, *report.uptime.priorities],
        "priorities": [(row.label, row.figures) for row in report.metrics.priorities],
        "dashboard_url": absolute_url("/admin/metrics/successmetrics/"),
    }
    keys = {address: report_key(report, address) for address in addresses}
    # A run after a crash or beside another finds these recorded: they are not rendered again.
    done = set(Notification.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    for address, key in keys.items():
        if key not in done:
            notification_create(
                key=key,
                to=address,
                template="reports/period_report",
                context=context,
                attachments=[attachment],
            )
    return len(set(keys.values()) - done)
