"""Incidents, for staff: the admin's list and page (every incident of the services they work,
with the admin's model permissions), opened as drafts, updated and published through
incidents.services. The public side is the status page and its JSON (/api/v2/)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from incidents import services
from incidents.models import Incident
from sla.selectors import limit_to_staff_services

from .. import serializers as s
from ..permissions import StaffOnly
from .base import ApiView


def _incidents(user):
    return limit_to_staff_services(Incident.objects.all(), user=user).select_related(
        "service", "severity", "owner"
    )


def _incident(request, incident_id, perm):
    """One incident of the member's services (else 404, as in the admin), if their admin
    permission ``perm`` allows (else 403)."""
    incident = _incidents(request.user).filter(pk=incident_id).first()
    if incident is None:
        raise Http404("No such incident.")
    if not request.user.has_perm(perm):
        raise _denied()
    return incident


def _denied():
    return PermissionDenied("Your role may not do this to incidents.")


class _StaffView(ApiView):
    def get_permissions(self):
        return [*super().get_permissions(), StaffOnly()]


class IncidentList(_StaffView):
    serializer_class = s.IncidentSerializer

    @extend_schema(
        operation_id="incidents_list",
        responses=s.IncidentSerializer(many=True),
        description="Staff: the incidents of the services they work, drafts included.",
    )
    def get(self, request):
        if not request.user.has_perm("incidents.view_incident"):
            raise _denied()
        page = self.paginate_queryset(_incidents(request.user))
        return self.get_paginated_response(s.IncidentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="incidents_create",
        request=s.IncidentCreateSerializer,
        responses={201: s.IncidentDetailSerializer},
        description="Staff: open an incident, as a draft (nothing public until published).",
    )
    def post(self, request):
        if not request.user.has_perm("incidents.add_incident"):
            raise _denied()
        serializer = s.IncidentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = services.incident_open(
            service=data["service"],
            severity=data["severity"],
            title=data["title"],
            impact=data.get("impact"),
            started_at=data.get("started_at"),
            by=request.user,
        )
        self.write_target = f"incident:{incident.pk}"
        incident = _incidents(request.user).get(pk=incident.pk)
        return Response(s.IncidentDetailSerializer(incident).data, status=status.HTTP_201_CREATED)


class IncidentDetail(_StaffView):
    serializer_class = s.IncidentDetailSerializer

    @extend_schema(
        operation_id="incidents_retrieve",
        responses=s.IncidentDetailSerializer,
        description="Staff: one incident with its updates (internal ones too).",
    )
    def get(self, request, incident_id):
        incident = _incident(request, incident_id, "incidents.view_incident")
        return Response(s.IncidentDetailSerializer(incident).data)


class IncidentUpdates(_StaffView):
    serializer_class = s.IncidentUpdateCreateSerializer

    @extend_schema(
        operation_id="incidents_updates_create",
        request=s.IncidentUpdateCreateSerializer,
        responses={201: s.IncidentUpdateSerializer},
        description="Staff: post an update. A public one shows on /status/ and is emailed to "
        "subscribers once the incident is published (held until then on a draft).",
    )
    def post(self, request, incident_id):
        incident = _incident(request, incident_id, "incidents.change_incident")
        serializer = s.IncidentUpdateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        update = services.incident_post_update(
            incident=incident,
            body=data["body"],
            public=data["public"],
            status=data.get("status"),
            by=request.user,
        )
        self.write_target = f"incident_update:{update.pk}"
        return Response(s.IncidentUpdateSerializer(update).data, status=status.HTTP_201_CREATED)


class IncidentPublish(_StaffView):
    serializer_class = s.IncidentDetailSerializer

    @extend_schema(
        operation_id="incidents_publish",
        request=None,
        responses=s.IncidentDetailSerializer,
        description="Staff allowed to publish (Tier 2 and 3): publish a draft; its held public "
        "updates are emailed then, once each.",
    )
    def post(self, request, incident_id):
        incident = _incident(request, incident_id, "incidents.change_incident")
        services.incident_publish(incident=incident, by=request.user)
        self.write_target = f"incident:{incident.pk}"
        return Response(
            s.IncidentDetailSerializer(_incidents(request.user).get(pk=incident.pk)).data
        )
