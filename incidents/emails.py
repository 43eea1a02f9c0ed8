"""Incident emails, rendered from ``templates/emails/incidents/`` and recorded in the outbox.

Keys name the event and the recipient, so recording the same email again changes nothing:

- ``incident-update:<update id>:<address>`` — a public update, once per address;
- ``incident:<id>:postmortem:<due>:<stage>:<address>`` — a post-mortem reminder; the deadline
  is part of the key, so an incident reopened and resolved again (a new deadline) gets a new
  round of reminders, while the same deadline never reminds anyone twice.
"""

from datetime import UTC

from django.urls import reverse

from core.zones import zone
from maintenance import emails as maintenance_emails
from notifications.rendering import absolute_url, render_email
from notifications.services import OutboxEmail, notification_body_create, notification_key

from . import deadlines


def local_time(moment, tz_name):
    """``(local naive, zone name)``: templates name the zone themselves (the date filter would
    convert an aware value to the site's zone)."""
    return moment.astimezone(zone(tz_name)).replace(tzinfo=None), tz_name


def utc_naive(moment):
    """A time the template labels UTC: naive, so the date filter cannot move it to TIME_ZONE."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def update_body(update):
    """The content of a public update's email, rendered once and stored once for every
    recipient (``update.incident.service`` loaded); each row fills in its unsubscribe link."""
    incident = update.incident
    service = incident.service
    posted, tz_name = local_time(update.created_at, service.timezone)
    rendered = render_email(
        "incidents/update",
        {
            "incident": incident,
            "service": service,
            "update": update,
            "posted": posted,
            "posted_utc": utc_naive(update.created_at),
            "timezone": tz_name,
            "status_url": absolute_url(reverse("status")),
            "incident_url": absolute_url(reverse("status_incident", args=[incident.pk])),
            "why_sent": maintenance_emails.WHY_PLACEHOLDER,
            "unsubscribe_url": maintenance_emails.UNSUBSCRIBE_PLACEHOLDER,
        },
    )
    return notification_body_create(
        subject=rendered.subject, body_text=rendered.text, body_html=rendered.html
    )


def update_emails(update, body, recipients):
    """The outbox rows of one public update for ``recipients`` (``[(address, token,
    customer)]``): the shared ``body`` (``update_body``), each row with its recipient, why it
    is sent to them and their own unsubscribe link."""
    # One-click unsubscribe, as the maintenance notices: the link stops the service's notices.
    link = maintenance_emails.unsubscribe_links()
    return [
        OutboxEmail(
            key=update_key(update.pk, address),
            to=address,
            subject=body.subject,
            headers=maintenance_emails.UNSUBSCRIBE_HEADERS,
            body=body,
            substitutions={
                maintenance_emails.UNSUBSCRIBE_PLACEHOLDER: link(token),
                maintenance_emails.WHY_PLACEHOLDER: maintenance_emails.why_sent(
                    customer, "incidents"
                ),
            },
        )
        for address, token, customer in recipients
    ]


def update_key(update_id, address):
    return notification_key(f"incident-update:{update_id}", address.lower())


def admin_url(incident):
    return absolute_url(reverse("admin:incidents_incident_change", args=[incident.pk]))


def reminder_emails(incident, reminder, addresses):
    """One post-mortem reminder (owner) or escalation (a management role) per address."""
    addresses = clean_addresses(addresses)
    if not addresses:
        return []
    service = incident.service
    due, tz_name = local_time(incident.postmortem_due_at, service.timezone)
    template = (
        "incidents/postmortem_reminder" if reminder.to_owner else "incidents/postmortem_escalated"
    )
    rendered = render_email(
        template,
        {
            "incident": incident,
            "service": service,
            "due": due,
            "due_utc": utc_naive(incident.postmortem_due_at),
            "resolved_utc": utc_naive(incident.resolved_at),
            "timezone": tz_name,
            "overdue": reminder.kind != deadlines.HALFTIME,
            "role": reminder.role,
            "url": admin_url(incident),
        },
    )
    prefix = (
        f"incident:{incident.pk}:postmortem:"
        f"{incident.postmortem_due_at.astimezone(UTC):%Y%m%dT%H%M%SZ}:{reminder.name}"
    )
    return keyed_emails(prefix, addresses, rendered)


def clean_addresses(addresses):
    """Each address once, trimmed, blanks dropped, in a fixed order."""
    return sorted({address.strip() for address in addresses if address and address.strip()})


def keyed_emails(prefix, addresses, rendered):
    """The same ``rendered`` email to each address, keyed ``<prefix>:<address>`` (lower case),
    so recording it again changes nothing."""
    return [
        OutboxEmail(
            key=notification_key(prefix, address.lower()),
            to=address,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
        )
        for address in addresses
    ]
