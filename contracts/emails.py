"""The usage emails: 80 % and 100 % of a month's support hours, each once per month."""

from django.urls import reverse

from notifications.rendering import absolute_url
from notifications.services import notification_create

from .selectors import usage_alert_recipients


def usage_threshold_reached(*, alert, usage):
    """Record the alert's email for each recipient; the outbox key is organisation × month ×
    threshold × recipient, so however often this runs for the month, each person gets one."""
    organization = alert.organization
    report_url = absolute_url(
        reverse("admin:contracts_organization_usage") + f"?month={alert.month:%Y-%m}"
    )
    for recipient in usage_alert_recipients(organization=organization):
        notification_create(
            key=(
                f"contracts:usage:{organization.pk}:{alert.month:%Y-%m}:{alert.threshold}:"
                f"{recipient.key}"
            ),
            to=recipient.email,
            template="contracts/usage_threshold",
            context={
                "organization": organization,
                "usage": usage,
                "threshold": alert.threshold,
                "exhausted": alert.threshold >= 100,
                "month": alert.month,
                "recipient": recipient,
                "url": report_url if recipient.is_staff else absolute_url("/"),
            },
        )
