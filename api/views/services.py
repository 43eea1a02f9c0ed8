"""Services and their SLA table (read): a customer's services, the ones staff work."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from .. import serializers as s
from ..selectors import service_with_sla, services_for_user
from .base import ApiView


class ServiceList(ApiView):
    serializer_class = s.ServiceSerializer

    @extend_schema(operation_id="services_list", responses=s.ServiceSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(services_for_user(user=request.user))
        return self.get_paginated_response(s.ServiceSerializer(page, many=True).data)


class ServiceDetail(ApiView):
    serializer_class = s.ServiceDetailSerializer

    @extend_schema(
        operation_id="services_retrieve",
        responses=s.ServiceDetailSerializer,
        description="The service with its SLA table (current priorities) and support tiers.",
    )
    def get(self, request, slug):
        service = service_with_sla(user=request.user, slug=slug)
        return Response(s.ServiceDetailSerializer(service).data)
