"""Every subscription write: customers' subscriptions (ensured, chosen, turned on or off),
anonymous double opt-in (request, confirm), one-click unsubscribe and the email's manage link;
and ``subscriptions_sync_members``, which the maintenance notice sweep and the incident fan-out
run before they read who hears.

Apart from ``services`` (occurrence changes, which enqueue the notice sweep's task) so that the
notice sweep (``notices``) imports nothing that imports its own task: no import cycle.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from notifications.rendering import absolute_url
from notifications.services import notification_create
from sla.models import ServiceCustomer

from . import emails
from .models import Subscription


def subscriptions_sync_members(*, service_id, batch_size=5000):
    """Subscribe the service's customers who have no subscription row yet (on by default).

    Customers added by ``tickets.services.customer_add_service`` are subscribed there; this
    covers memberships made any other way (admin inline, imports). One query when none is new.
    """
    has_row = Subscription.objects.filter(service_id=service_id, user_id=OuterRef("customer_id"))
    missing = (
        ServiceCustomer.objects.filter(service_id=service_id)
        .exclude(Exists(has_row))
        # In key order: two runs inserting the same rows lock them in the same order, so one
        # waits for the other instead of both waiting on each other (a deadlock).
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )
    now = timezone.now()
    created = 0
    while True:
        ids = list(missing[:batch_size])
        if not ids:
            return created
        Subscription.objects.bulk_create(
            [Subscription(service_id=service_id, user_id=pk, confirmed_at=now) for pk in ids],
            ignore_conflicts=True,
        )
        created += len(ids)
        if len(ids) < batch_size:
            return created


@transaction.atomic
def subscription_ensure_for_customer(*, service, customer):
    """Subscribe a customer of ``service`` to its notices, unless they unsubscribed before."""
    subscription, _ = Subscription.objects.get_or_create(
        service=service,
        user=customer,
        defaults={"confirmed_at": timezone.now()},
    )
    return subscription


def topics_words(*, maintenance, incidents):
    """What a subscription hears, in words: "incident updates and maintenance notices"."""
    words = [
        word
        for word, wanted in (("incident updates", incidents), ("maintenance notices", maintenance))
        if wanted
    ]
    return " and ".join(words)


class StaleConfirmation(Exception):
    """A confirm link issued before the subscription was last turned off."""


def _turn_off(subscription, *, at):
    """Stop the notices; the confirm links sent so far stop working (``confirm_version``)."""
    subscription.unsubscribed_at = at
    subscription.confirm_version += 1


@transaction.atomic
def subscription_request(*, service, email, maintenance=True, incidents=True):
    """Start a double opt-in: record the address and what it wants to hear (maintenance,
    incidents or both), and email it a signed confirmation link.

    Says nothing about whether the address was subscribed already (no address probing); an
    active subscription is left as it is and gets no mail (what it hears is changed from its
    emails' manage link, which only its owner has). The link confirms only the state it was
    sent for: an unsubscribe after it voids it, and asking again sends a new one.
    """
    if not (maintenance or incidents):
        raise ValueError("a subscription hears of maintenance, incidents or both")
    email = email.strip().lower()
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        service=service, user=None, email=email
    )
    if subscription.active:
        return subscription
    subscription.maintenance, subscription.incidents = bool(maintenance), bool(incidents)
    subscription.save(update_fields=["maintenance", "incidents"])
    confirm_url = absolute_url(
        reverse("maintenance:subscription_confirm", args=[emails.confirm_token(subscription)])
    )
    # One confirmation a day per address and version, however often the form is sent.
    notification_create(
        key=(
            f"maint:confirm:{subscription.pk}:v{subscription.confirm_version}"
            f":{timezone.now():%Y%m%d}"
        ),
        to=email,
        template="maintenance/confirm",
        context={
            "service": service,
            "confirm_url": confirm_url,
            "hear": topics_words(maintenance=maintenance, incidents=incidents),
        },
    )
    return subscription


@transaction.atomic
def subscription_confirm(*, token):
    """Confirm a subscription from its emailed link.

    Raises ``signing.BadSignature`` if forged or expired, ``Subscription.DoesNotExist`` if
    gone, ``StaleConfirmation`` if the subscription was turned off after the link was sent
    (whoever unsubscribed meant it; an old link must not undo that).
    """
    subscription_token, version = emails.confirm_token_read(token)
    subscription = (
        Subscription.objects.select_for_update()
        .select_related("service")
        .get(token=subscription_token)
    )
    if version != subscription.confirm_version:
        raise StaleConfirmation
    if not subscription.active:
        subscription.confirmed_at = timezone.now()
        subscription.unsubscribed_at = None
        subscription.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return subscription


@transaction.atomic
def subscription_unsubscribe(*, token):
    """One-click unsubscribe from a signed link; raises ``signing.BadSignature`` if forged."""
    subscription = Subscription.objects.select_for_update().get(
        token=emails.unsubscribe_token_read(token)
    )
    if subscription.unsubscribed_at is None:
        _turn_off(subscription, at=timezone.now())
        subscription.save(update_fields=["unsubscribed_at", "confirm_version"])
    return subscription


def _choose(subscription, *, maintenance, incidents, at):
    """Set what a subscription hears; hearing nothing is unsubscribing (its confirm links
    stop working, as after any unsubscribe), hearing something again turns it back on."""
    subscription.maintenance, subscription.incidents = bool(maintenance), bool(incidents)
    if not (maintenance or incidents):
        if subscription.unsubscribed_at is None:
            _turn_off(subscription, at=at)
    else:
        subscription.unsubscribed_at = None


@transaction.atomic
def subscription_choose(*, service, user, maintenance, incidents):
    """A customer chooses what they hear of one of their services: maintenance, incidents,
    both or nothing (the portal's subscriptions page)."""
    subscription = subscription_ensure_for_customer(service=service, customer=user)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    _choose(subscription, maintenance=maintenance, incidents=incidents, at=timezone.now())
    subscription.confirmed_at = subscription.confirmed_at or timezone.now()
    subscription.save(
        update_fields=[
            "maintenance",
            "incidents",
            "unsubscribed_at",
            "confirmed_at",
            "confirm_version",
        ]
    )
    return subscription


@transaction.atomic
def subscription_choose_by_token(*, token, maintenance, incidents):
    """Someone following an email's manage link chooses what they hear (no login: the signed
    token is the credential, as for unsubscribing). Raises ``signing.BadSignature`` if forged.
    A subscription that was never confirmed stays unconfirmed."""
    subscription = Subscription.objects.select_for_update().get(
        token=emails.unsubscribe_token_read(token)
    )
    _choose(subscription, maintenance=maintenance, incidents=incidents, at=timezone.now())
    subscription.save(
        update_fields=["maintenance", "incidents", "unsubscribed_at", "confirm_version"]
    )
    return subscription
