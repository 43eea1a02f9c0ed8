"""The signed-in customer's email subscriptions, one per service of theirs, as the portal's
subscriptions page shows and changes them: through maintenance.selectors.customer_subscriptions
and maintenance.subscriptions.subscription_choose. Hearing nothing is being unsubscribed."""

from dataclasses import dataclass

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from maintenance import subscriptions
from maintenance.selectors import customer_subscriptions
from sla.models import Service

from .. import serializers as s
from .base import ApiView


@dataclass(frozen=True)
class _Row:
    service: Service
    maintenance: bool
    incidents: bool
    subscribed: bool


def _row(service, subscription):
    # No row yet: a customer hears both by default (the page's initial choice).
    if subscription is None:
        return _Row(service, True, True, True)
    active = subscription.active
    return _Row(
        service,
        active and subscription.maintenance,
        active and subscription.incidents,
        active,
    )


def _rows(user):
    return [
        _row(service, subscription) for service, subscription in customer_subscriptions(user=user)
    ]


def _service(user, slug):
    """One of the user's services (a customer's; staff have none), or 404."""
    for service, subscription in customer_subscriptions(user=user):
        if service.slug == slug:
            return service, subscription
    raise Http404("No such service.")


class _SubscriptionView(ApiView):
    def choose(self, service, *, maintenance, incidents):
        subscription = subscriptions.subscription_choose(
            service=service, user=self.request.user, maintenance=maintenance, incidents=incidents
        )
        self.write_target = f"subscription:{subscription.pk}"
        return _row(service, subscription)


class SubscriptionList(_SubscriptionView):
    serializer_class = s.SubscriptionSerializer
    pagination_class = None

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return s.SubscriptionCreateSerializer
        return s.SubscriptionSerializer

    @extend_schema(
        operation_id="subscriptions_list",
        responses=s.SubscriptionListSerializer,
        description="What you hear by email of each of your services (customers; staff have "
        "none): maintenance notices, public incident updates, both or nothing.",
    )
    def get(self, request):
        rows = _rows(request.user)
        return Response({"results": s.SubscriptionSerializer(rows, many=True).data})

    @extend_schema(
        operation_id="subscriptions_create",
        request=s.SubscriptionCreateSerializer,
        responses={201: s.SubscriptionSerializer},
        description="Subscribe to one of your services (both topics unless chosen), or "
        "subscribe again after unsubscribing.",
    )
    def post(self, request):
        serializer = s.SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        service, _ = _service(request.user, data["service"])
        row = self.choose(service, maintenance=data["maintenance"], incidents=data["incidents"])
        return Response(s.SubscriptionSerializer(row).data, status=status.HTTP_201_CREATED)


class SubscriptionDetail(_SubscriptionView):
    serializer_class = s.SubscriptionSerializer

    @extend_schema(
        operation_id="subscriptions_retrieve",
        responses=s.SubscriptionSerializer,
        description="What you hear of one of your services.",
    )
    def get(self, request, slug):
        return Response(s.SubscriptionSerializer(_row(*_service(request.user, slug))).data)

    @extend_schema(
        operation_id="subscriptions_update",
        request=s.SubscriptionTopicsSerializer,
        responses=s.SubscriptionSerializer,
        description="Change the topics; one left out keeps its value. Hearing neither is "
        "unsubscribing; hearing one again subscribes again.",
    )
    def patch(self, request, slug):
        service, subscription = _service(request.user, slug)
        serializer = s.SubscriptionTopicsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        current = _row(service, subscription)
        topics = {"maintenance": current.maintenance, "incidents": current.incidents}
        topics.update(serializer.validated_data)
        return Response(s.SubscriptionSerializer(self.choose(service, **topics)).data)

    @extend_schema(
        operation_id="subscriptions_destroy",
        request=None,
        responses={204: None},
        description="Unsubscribe from the service (its emails stop; subscribe again by POST).",
    )
    def delete(self, request, slug):
        service, _ = _service(request.user, slug)
        self.choose(service, maintenance=False, incidents=False)
        return Response(status=status.HTTP_204_NO_CONTENT)
