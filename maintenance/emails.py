"""Maintenance emails, rendered from ``templates/emails/maintenance/``.

A round's email is rendered once; only the unsubscribe link differs per recipient, put in by
replacing ``UNSUBSCRIBE_PLACEHOLDER`` (a signed token per subscription, no login needed).
"""

from datetime import UTC, timedelta

from django.core import signing
from django.urls import reverse

from core.zones import zone
from notifications.rendering import absolute_url, render_email

UNSUBSCRIBE_PLACEHOLDER = "@@unsubscribe-url@@"
_UNSUBSCRIBE_SALT = "maintenance.unsubscribe"
_CONFIRM_SALT = "maintenance.confirm"
CONFIRM_MAX_AGE = 7 * 24 * 3600


def unsubscribe_signer():
    return signing.Signer(salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(token):
    return unsubscribe_signer().sign(token)


def unsubscribe_token_read(signed):
    return unsubscribe_signer().unsign(signed)


# RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the link. The link is
# each recipient's own: ``UNSUBSCRIBE_PLACEHOLDER`` is replaced per outbox row.
UNSUBSCRIBE_HEADERS = {
    "List-Unsubscribe": f"<{UNSUBSCRIBE_PLACEHOLDER}>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


# Why the recipient gets a notice, filled in per outbox row: a customer's subscription came
# with their membership (they may never have asked for it); an address's was asked for and
# confirmed. Incident updates say the same.
WHY_PLACEHOLDER = "@@why-sent@@"
WHY_CUSTOMER = "you are a customer of"
# An address hears of a service what it chose (Subscription.maintenance / .incidents), so its
# email names that choice.
WHY_SUBSCRIBER = {
    "maintenance": "you subscribed to the maintenance notices of",
    "incidents": "you subscribed to the incident updates of",
}


def why_sent(customer, topic):
    """Why a ``topic`` ("maintenance" or "incidents") email reaches this recipient."""
    return WHY_CUSTOMER if customer else WHY_SUBSCRIBER[topic]


def unsubscribe_links():
    """``token -> that subscriber's unsubscribe URL``, for a batch of recipients: the URL is
    reversed and the signer built once, not per recipient."""
    url_template = absolute_url(reverse("maintenance:unsubscribe", args=["TOKEN"]))
    signer = unsubscribe_signer()
    return lambda token: url_template.replace("TOKEN", signer.sign(token))


def unsubscribe_url(token):
    return absolute_url(reverse("maintenance:unsubscribe", args=[unsubscribe_token(token)]))


def confirm_token(subscription):
    """A confirm link's token: the subscription and the ``confirm_version`` it is issued for
    (an unsubscribe raises the version, so the link then no longer confirms), signed and
    timed."""
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign(
        f"{subscription.token}:{subscription.confirm_version}"
    )


def confirm_token_read(signed):
    """``(subscription token, confirm version)``; raises ``signing.BadSignature`` when forged
    or expired."""
    value = signing.TimestampSigner(salt=_CONFIRM_SALT).unsign(signed, max_age=CONFIRM_MAX_AGE)
    token, _, version = value.partition(":")
    # Links sent before versions existed carry none: version 0 (the migration starts every
    # subscription that was off at 1, so they cannot turn one back on).
    return token, int(version) if version.isdigit() else 0


def render_round(template, context):
    """The round's email with the placeholder where each recipient's unsubscribe link goes."""
    return render_email(
        f"maintenance/{template}",
        {**context, "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER, "why_sent": WHY_PLACEHOLDER},
    )


def round_context(rnd):
    """What a round's email says: the occurrence (or the quarter's windows) in local time."""
    from .models import NoticeRound
    from .selectors import occurrences_for_services

    service = rnd.service
    context = {
        "service": service,
        "kind": rnd.kind,
        "lead": rnd.lead,
        "calendar_url": absolute_url(reverse("maintenance:calendar") + f"?service={service.slug}"),
        "ics_url": absolute_url(reverse("maintenance:ics", args=[service.slug])),
        "status_url": absolute_url(reverse("status")),
    }
    if rnd.kind == NoticeRound.Kind.DIGEST:
        tz = zone(service.timezone)
        occurrences = [
            o
            for o in occurrences_for_services(
                services=[service], start=rnd.starts_at, end=rnd.ends_at
            )
            if not o.cancelled
        ]
        context.update(
            # Naive local times: the template's date filter would convert aware ones to
            # the site's zone.
            quarter_start=rnd.starts_at.astimezone(tz).date(),
            quarter_end=(rnd.ends_at.astimezone(tz) - timedelta(days=1)).date(),
            timezone=service.timezone,
            occurrences=[
                {
                    "window": o.window,
                    "starts": _naive(o.starts_at, zone(o.window.timezone)),
                    "ends": _naive(o.ends_at, zone(o.window.timezone)),
                    "timezone": o.window.timezone,
                }
                for o in occurrences
            ],
        )
        return context
    window = rnd.window
    tz = zone(window.timezone)
    starts_at, ends_at = rnd.starts_at, rnd.ends_at
    announced = (
        NoticeRound.objects.filter(
            window=window, occurrence_start=rnd.occurrence_start, kind=NoticeRound.Kind.NOTICE
        )
        .exclude(starts_at=None)
        .exclude(status=NoticeRound.Status.SKIPPED)
        .order_by("-created_at")
        .values_list("starts_at", "ends_at")
        .first()
    )
    if starts_at is None and announced:  # a cancellation: what was announced
        starts_at, ends_at = announced
    context.update(
        window=window,
        timezone=window.timezone,
        starts=_naive(starts_at, tz),
        ends=_naive(ends_at, tz),
        starts_utc=_naive(starts_at, UTC),
        ends_utc=_naive(ends_at, UTC),
        was_starts=_naive(announced[0], tz) if announced else None,
        was_ends=_naive(announced[1], tz) if announced else None,
    )
    return context


def personalise(rendered, token):
    """(subject, text, html, headers) for one recipient: their own unsubscribe link."""
    url = unsubscribe_url(token)
    return (
        rendered.subject,
        rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, url),
        rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, url),
        {
            # RFC 8058 one-click: a mail client POSTs "List-Unsubscribe=One-Click" to the URL.
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def _naive(moment, tz):
    """Local wall-clock time without its zone (the templates name the zone themselves)."""
    return moment.astimezone(tz).replace(tzinfo=None)
