"""Maintenance windows and their occurrences (read: as the public calendar shows them, every
service); staff who may change windows in the admin cancel or move one occurrence of the
services they work, through maintenance.services."""

from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from maintenance import services
from maintenance.models import MaintenanceWindow
from maintenance.selectors import occurrence_get, occurrences_for_services
from sla.models import Service
from sla.selectors import limit_to_staff_services

from .. import serializers as s
from ..permissions import StaffOnly
from .base import ApiView

# The calendar's horizon by default; a request may ask for up to a year at once.
DEFAULT_SPAN = timedelta(days=90)
MAX_SPAN = timedelta(days=366)


def _service_filter(request):
    slug = request.query_params.get("service")
    if not slug:
        return None
    service = Service.objects.filter(slug=slug).first()
    if service is None:
        raise Http404("No such service.")
    return service


class WindowList(ApiView):
    serializer_class = s.WindowSerializer

    @extend_schema(
        operation_id="maintenance_windows_list",
        parameters=[OpenApiParameter("service", str, description="a service's slug")],
        responses=s.WindowSerializer(many=True),
        description="Active maintenance windows, as the public maintenance calendar lists them.",
    )
    def get(self, request):
        windows = MaintenanceWindow.objects.filter(is_active=True).select_related("service")
        service = _service_filter(request)
        if service is not None:
            windows = windows.filter(service=service)
        page = self.paginate_queryset(windows)
        return self.get_paginated_response(s.WindowSerializer(page, many=True).data)


class OccurrenceList(ApiView):
    serializer_class = s.OccurrenceSerializer
    pagination_class = None

    @extend_schema(
        operation_id="maintenance_occurrences_list",
        parameters=[
            OpenApiParameter("service", str, description="a service's slug"),
            OpenApiParameter("start", str, description="ISO 8601 instant; default: now"),
            OpenApiParameter(
                "end", str, description="ISO 8601 instant; default: start + 90 days; at most a year"
            ),
        ],
        responses=s.OccurrenceListSerializer,
        description="Occurrences overlapping [start, end), cancelled ones flagged, moved ones "
        "at their new time (maintenance.selectors.occurrences_for_services).",
    )
    def get(self, request):
        start = _instant(request, "start") or timezone.now()
        end = _instant(request, "end") or start + DEFAULT_SPAN
        if not start < end <= start + MAX_SPAN:
            raise ValidationError({"end": ["After start, and at most a year after it."]})
        service = _service_filter(request)
        occurrences = occurrences_for_services(
            services=[service] if service else None, start=start, end=end
        )
        return Response({"results": s.OccurrenceSerializer(occurrences, many=True).data})


def _instant(request, name):
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise ValidationError({name: ["An ISO 8601 date and time, e.g. 2026-12-01T10:00:00Z."]})
    if timezone.is_naive(value):
        raise ValidationError({name: ["Give the time zone (Z or ±hh:mm)."]})
    return value


class _OccurrenceAction(ApiView):
    """Staff with the admin's right to change windows, of the services they work."""

    def get_permissions(self):
        return [*super().get_permissions(), StaffOnly()]

    def post(self, request, window_id):
        # The admin's scope: a window of a service the member does not work is 404.
        window = (
            limit_to_staff_services(MaintenanceWindow.objects.all(), user=request.user)
            .select_related("service")
            .filter(pk=window_id)
            .first()
        )
        if window is None:
            raise Http404("No such window.")
        if not request.user.has_perm("maintenance.change_maintenancewindow"):
            self.permission_denied(request, message="You may not change maintenance windows.")
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self.act(request, window, data)
        self.write_target = f"window:{window.pk}"
        # Named for good by its original start, wherever it was moved.
        occurrence = occurrence_get(window=window, original_start=self.original_start)
        return Response(s.OccurrenceSerializer(occurrence).data)


class OccurrenceCancel(_OccurrenceAction):
    serializer_class = s.OccurrenceCancelSerializer

    def act(self, request, window, data):
        exception = services.occurrence_cancel(
            window=window, starts_at=data["starts_at"], by=request.user, reason=data["reason"]
        )
        self.original_start = exception.original_start

    @extend_schema(
        operation_id="maintenance_occurrence_cancel",
        responses=s.OccurrenceSerializer,
        description="Cancel one occurrence (named by its start); notified subscribers are told.",
    )
    def post(self, request, window_id):
        return super().post(request, window_id)


class OccurrenceMove(_OccurrenceAction):
    serializer_class = s.OccurrenceMoveSerializer

    def act(self, request, window, data):
        exception = services.occurrence_move(
            window=window,
            starts_at=data["starts_at"],
            new_start=data["new_start"],
            new_end=data.get("new_end"),
            by=request.user,
            reason=data["reason"],
        )
        self.original_start = exception.original_start

    @extend_schema(
        operation_id="maintenance_occurrence_move",
        responses=s.OccurrenceSerializer,
        description="Move one occurrence (it keeps its length unless new_end is given), within "
        "the plan's allowed slot; notified subscribers are told.",
    )
    def post(self, request, window_id):
        return super().post(request, window_id)
