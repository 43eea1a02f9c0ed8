"""Success metrics for a period, for staff: the admin dashboard's figures, read through its own
``metrics.forms.report_for_query`` (the page and its CSV export read through it too) over the
services the member works (``metrics.selectors.services``, the dashboard's picker)."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from metrics import selectors
from metrics.forms import PERIOD_CHOICES, report_for_query

from .. import serializers as s
from ..permissions import StaffOnly, is_staff_request
from ..selectors import services_for_user
from .base import ApiView

# The dashboard's query string, less ``service`` (the path names it).
PERIOD_FIELDS = ("period", "month", "quarter", "year", "start", "end")


class ServiceMetrics(ApiView):
    serializer_class = s.MetricsSerializer

    @extend_schema(
        operation_id="services_metrics_retrieve",
        responses=s.MetricsSerializer,
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                enum=[value for value, _ in PERIOD_CHOICES],
                description="Default month.",
            ),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM; default this month."),
            OpenApiParameter(
                "quarter", OpenApiTypes.STR, description="YYYY-Qn; default this quarter."
            ),
            OpenApiParameter("year", OpenApiTypes.STR, description="YYYY; default this year."),
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="First day of a custom range."
            ),
            OpenApiParameter(
                "end",
                OpenApiTypes.DATE,
                description="Last day of a custom range, inclusive (at most 731 days).",
            ),
        ],
        description="Staff: the success-metrics dashboard of one of the services they work "
        "for a month, quarter, year or custom range of the service's local days, figure for "
        "figure as the admin page and its CSV export show it (the same parameters; the period "
        "left out is this month): mean first response, MTTR, MTBF, resolution rate and CSAT "
        "against the plan's targets, volume, SLA compliance per priority, opened and resolved "
        "per week.",
    )
    def get(self, request, slug):
        if not is_staff_request(request):
            # A customer's own service exists for them (403); another's does not (404).
            if not services_for_user(user=request.user).filter(slug=slug).exists():
                raise Http404("No such service.")
            raise PermissionDenied(StaffOnly.message)
        services = selectors.services(user=request.user)
        if not any(service.slug == slug for service in services):
            raise Http404("No such service.")
        query = request.query_params
        data = {name: query[name] for name in PERIOD_FIELDS if name in query}
        form, report = report_for_query(
            {**data, "service": slug}, services=services, now=timezone.now()
        )
        if report is None:
            raise ValidationError(
                {
                    ("non_field_errors" if field == "__all__" else field): messages
                    for field, messages in form.errors.items()
                }
            )
        return Response(s.MetricsSerializer(report).data)
