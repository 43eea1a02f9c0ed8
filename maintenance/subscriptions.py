"""Subscription writes the senders need: the maintenance notice sweep and the incident fan-out
make sure every customer of a service has a subscription row before they read who hears.

Apart from ``services`` so that the notice sweep (``notices``) does not import the services
module, which enqueues the sweep's own task (``tasks`` → ``notices``): no import cycle.
"""

from django.db.models import Exists, OuterRef
from django.utils import timezone

from sla.models import ServiceCustomer

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
