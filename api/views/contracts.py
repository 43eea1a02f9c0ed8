"""Contract hours and time: a customer reads their organisation's month as the portal's usage
bar shows it; staff read the organisations of the services they work (the admin's list), log
time on the tickets they may work and void it, through contracts.selectors and
contracts.services."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from contracts import services
from contracts.models import Organization
from contracts.selectors import (
    contract_usage_for_customer,
    organizations_month_usage,
    time_entries_for_ticket,
)
from sla.selectors import limit_to_staff_services

from .. import serializers as s
from ..pagination import OldestFirstPagination
from ..permissions import StaffOnly, is_staff_request
from ..selectors import ticket_for_user
from .base import ApiView


def _require(request, perm):
    # The admin's model permission for the same reading or change.
    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role may not do this to contracts and time.")


class ContractUsage(ApiView):
    serializer_class = s.ContractUsageSerializer

    @extend_schema(
        operation_id="contracts_usage_list",
        responses=s.ContractUsageSerializer(many=True),
        description="This month's contract hours. Customers: their organisation's, as the "
        "portal's usage bar (no row without an organisation holding a contract this month). "
        "Staff: every organisation of the services they work, as the admin's organisation "
        "list (a null contract when it holds none this month). Each organisation's month is "
        "on its service's clock.",
    )
    def get(self, request):
        if not is_staff_request(request):
            usage = contract_usage_for_customer(user=request.user)
            rows = [usage] if usage is not None else []
            # One row at most: the page's shape, with nothing to follow (a bad page_size is
            # still refused, as on every list).
            self.paginator.get_page_size(request)
            data = s.ContractUsageSerializer(rows, many=True).data
            return Response({"next": None, "previous": None, "results": data})
        _require(request, "contracts.view_organization")
        organizations = limit_to_staff_services(
            Organization.objects.select_related("service"), user=request.user
        )
        page = self.paginate_queryset(organizations)
        # The page's months in a few queries, however many organisations it holds.
        usage = organizations_month_usage(organizations=page)
        rows = [usage[organization.pk] for organization in page]
        return self.get_paginated_response(s.ContractUsageSerializer(rows, many=True).data)


def _staff_ticket(view, request, ticket_id):
    # The ticket first: one outside the caller's scope is 404 whoever asks; then staff only,
    # on a ticket they may work (one that moved past their tier is 403, as for changes).
    ticket = ticket_for_user(user=request.user, ticket_id=ticket_id, change=True)
    if not StaffOnly().has_permission(request, view):
        view.permission_denied(request, message=StaffOnly.message)
    return ticket


class TicketTimeEntries(ApiView):
    pagination_class = OldestFirstPagination

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return s.TimeEntryCreateSerializer
        return s.TimeEntrySerializer

    def _ticket(self, request, ticket_id):
        return _staff_ticket(self, request, ticket_id)

    @extend_schema(
        operation_id="tickets_time_entries_list",
        responses=s.TimeEntrySerializer(many=True),
        description="Staff: the time logged on a ticket they may work, voided entries "
        "included (flagged), in the order logged.",
    )
    def get(self, request, ticket_id):
        ticket = self._ticket(request, ticket_id)
        _require(request, "contracts.view_timeentry")
        page = self.paginate_queryset(time_entries_for_ticket(ticket=ticket))
        return self.get_paginated_response(s.TimeEntrySerializer(page, many=True).data)

    @extend_schema(
        operation_id="tickets_time_entries_create",
        request=s.TimeEntryCreateSerializer,
        responses={201: s.TimeEntrySerializer},
        description="Staff: log time on a ticket they may work; it counts against its "
        "customer's organisation's contract (this month or last only; the usage emails at "
        "80 % and 100 % are recorded with it).",
    )
    def post(self, request, ticket_id):
        ticket = self._ticket(request, ticket_id)
        _require(request, "contracts.add_timeentry")
        serializer = s.TimeEntryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.time_entry_log(
            ticket=ticket,
            by=request.user,
            minutes=data["minutes"],
            note=data["note"],
            at=data.get("at"),
        )
        self.write_target = f"time_entry:{entry.pk}"
        entry = time_entries_for_ticket(ticket=ticket).get(pk=entry.pk)
        return Response(s.TimeEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class TimeEntryVoid(ApiView):
    serializer_class = s.TimeEntryVoidSerializer

    @extend_schema(
        operation_id="tickets_time_entries_void",
        request=s.TimeEntryVoidSerializer,
        responses={200: s.TimeEntrySerializer},
        description="Staff: void a time entry of a ticket they may work, as the admin's time "
        "entry page does (a reason; this month or last only; once): it stays on record, "
        "flagged, and leaves every sum. Usage emails already sent stay sent.",
    )
    def post(self, request, ticket_id, entry_id):
        ticket = _staff_ticket(self, request, ticket_id)
        _require(request, "contracts.change_timeentry")
        entry = time_entries_for_ticket(ticket=ticket).filter(pk=entry_id).first()
        if entry is None:
            raise Http404("No such time entry.")
        serializer = s.TimeEntryVoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data["reason"]
        services.time_entry_void(entry=entry, by=request.user, reason=reason)
        self.write_target = f"time_entry:{entry.pk}"
        entry = time_entries_for_ticket(ticket=ticket).get(pk=entry.pk)
        return Response(s.TimeEntrySerializer(entry).data)
