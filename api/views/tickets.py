"""Tickets: list, read, open, reply, status; staff: priority, assignee, escalation, notes.

Reads go through the portal's selectors (customers) and the admin's (staff); every write is
one service call. The API adds no rule: what a service refuses, the API refuses.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from tickets import services
from tickets.attachments import download_response
from tickets.models import Ticket
from tickets.selectors import (
    attachment_get_for_user,
    ticket_list_for_customer,
    tickets_for_staff,
    tickets_narrowed,
)

from .. import serializers as s
from ..pagination import ActivityCursorPagination, OldestFirstPagination
from ..permissions import CustomerOnly, StaffOnly, is_staff_request
from ..selectors import (
    ticket_attachments_for_user,
    ticket_for_user,
    ticket_messages_for_user,
)
from .base import ApiView

PARSERS = [JSONParser, MultiPartParser, FormParser]
STATUS_FILTERS = ["active", *Ticket.Status.values]

LIST_PARAMETERS = [
    OpenApiParameter(
        "status", str, enum=STATUS_FILTERS, description="`active`: not resolved/closed"
    ),
    OpenApiParameter("service", str, description="a service's slug"),
    OpenApiParameter("q", str, description="words of the subject"),
    OpenApiParameter("tier", int, enum=[1, 2, 3], description="staff only"),
    OpenApiParameter("assignee", str, description="staff only: a user id, `me` or `none`"),
    OpenApiParameter("priority", str, description="staff only: a priority code"),
]


def _filters(request):
    params = request.query_params
    wanted = params.get("status") or None
    if wanted is not None and wanted not in STATUS_FILTERS:
        raise ApiValidationError({"status": [f"One of: {', '.join(STATUS_FILTERS)}."]})
    # The staff-only filters apply to staff only, but a malformed one is refused whoever sends
    # it, as the document says (an ignored bad value would read as a filter that worked).
    if params.get("tier") and params["tier"] not in ("1", "2", "3"):
        raise ApiValidationError({"tier": ["1, 2 or 3."]})
    assignee = params.get("assignee")
    if assignee and assignee not in ("me", "none") and not _is_id(assignee):
        raise ApiValidationError({"assignee": ["A user id, `me` or `none`."]})
    return {
        "status": wanted,
        "service": params.get("service") or None,
        "query": params.get("q") or None,
    }


def _is_id(text):
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses (a 500).
    return text.isascii() and text.isdigit()


def _staff_tickets(request, *, status, service, query):
    tickets = tickets_for_staff(user=request.user).select_related(
        "service", "priority", "customer", "assignee"
    )
    tickets = tickets_narrowed(tickets, status=status, service=service, query=query)
    params = request.query_params
    if params.get("tier"):
        tickets = tickets.filter(tier=int(params["tier"]))
    assignee = params.get("assignee")
    if assignee == "me":
        tickets = tickets.filter(assignee=request.user)
    elif assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee:
        tickets = tickets.filter(assignee_id=int(assignee))
    if params.get("priority"):
        tickets = tickets.filter(priority__code=params["priority"])
    return tickets.only(*s.STAFF_TICKET_LIST_ONLY)


class TicketList(ApiView):
    parser_classes = PARSERS

    def get_permissions(self):
        extra = [CustomerOnly()] if self.request.method == "POST" else []
        return [*super().get_permissions(), *extra]

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return s.TicketCreateSerializer
        if (
            self.request is not None
            and getattr(self.request, "user", None)
            and is_staff_request(self.request)
        ):
            return s.StaffTicketSerializer
        return s.TicketSerializer

    def get_queryset(self):
        filters = _filters(self.request)
        if is_staff_request(self.request):
            return _staff_tickets(self.request, **filters)
        # "My tickets" of the portal: their own, CC'd, and colleagues' when shared.
        return ticket_list_for_customer(
            user=self.request.user, include_shared=True, **filters
        ).only(*s.TICKET_LIST_ONLY)

    @extend_schema(
        operation_id="tickets_list",
        parameters=LIST_PARAMETERS,
        responses=s.StaffTicketSerializer(many=True),
        description="Customers: their tickets as on the portal (own, CC'd, colleagues' when "
        "their organisation shares), latest activity first, as there. Staff: the tickets of "
        "their tiers and services, as in the admin, newest first; staff items carry `tier`, "
        "`assignee` and deadlines.",
    )
    def get(self, request):
        if not is_staff_request(request):
            self.pagination_class = ActivityCursorPagination
        page = self.paginate_queryset(self.get_queryset())
        serializer = self.get_serializer_class()(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="tickets_create",
        request={
            "application/json": s.TicketCreateSerializer,
            "multipart/form-data": s.TicketCreateSerializer,
        },
        responses={201: s.TicketDetailSerializer},
        description="Customers open tickets (staff: 403). Attachments by multipart/form-data.",
    )
    def post(self, request):
        data = _validated(s.TicketCreateSerializer, request)
        ticket = services.ticket_create(
            customer=request.user,
            service=data["service"],
            priority=data["priority"],
            subject=data["subject"],
            description=data["description"],
            attachments=data["attachments"],
        )
        self.write_target = f"ticket:{ticket.pk}"
        ticket = ticket_for_user(user=request.user, ticket_id=ticket.pk)
        return Response(s.TicketDetailSerializer(ticket).data, status=status.HTTP_201_CREATED)


def _validated(serializer_class, request):
    data = request.data
    if hasattr(data, "getlist") and "attachments" in serializer_class().fields:
        # multipart: several files under one name
        data = {
            **{k: data.get(k) for k in data},
            "attachments": request.FILES.getlist("attachments"),
        }
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _detail(request, ticket):
    if is_staff_request(request):
        return s.StaffTicketDetailSerializer(ticket).data
    return s.TicketDetailSerializer(ticket).data


class TicketDetail(ApiView):
    serializer_class = s.TicketDetailSerializer

    @extend_schema(
        operation_id="tickets_retrieve",
        responses=s.StaffTicketDetailSerializer,
        description="One ticket; 404 for a ticket outside your scope, as on the portal.",
    )
    def get(self, request, ticket_id):
        return Response(_detail(request, ticket_for_user(user=request.user, ticket_id=ticket_id)))


class TicketMessages(ApiView):
    serializer_class = s.MessageSerializer
    pagination_class = OldestFirstPagination
    parser_classes = PARSERS

    @extend_schema(
        operation_id="tickets_messages_list",
        responses=s.MessageSerializer(many=True),
        description="The conversation, oldest first: public replies for customers; with "
        "internal notes for staff.",
    )
    def get(self, request, ticket_id):
        ticket = ticket_for_user(user=request.user, ticket_id=ticket_id)
        page = self.paginate_queryset(ticket_messages_for_user(user=request.user, ticket=ticket))
        return self.get_paginated_response(s.MessageSerializer(page, many=True).data)

    @extend_schema(
        operation_id="tickets_messages_create",
        request={
            "application/json": s.MessageCreateSerializer,
            "multipart/form-data": s.MessageCreateSerializer,
        },
        responses={201: s.MessageSerializer},
        description="Reply (customers and staff) or, staff only, add an internal note "
        "(`internal: true`). Attachments by multipart/form-data.",
    )
    def post(self, request, ticket_id):
        ticket = ticket_for_user(user=request.user, ticket_id=ticket_id, change=True)
        data = _validated(s.MessageCreateSerializer, request)
        message = services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            internal=data["internal"],
            attachments=data["attachments"],
        )
        self.write_target = f"message:{message.pk}"
        message = ticket_messages_for_user(user=request.user, ticket=ticket).get(pk=message.pk)
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class _TicketAction(ApiView):
    """POST one change to a ticket through one service; answers the ticket as it is now."""

    staff_only = False

    def post(self, request, ticket_id):
        # The ticket first: one outside the caller's scope is 404 whoever asks, as on the portal.
        ticket = ticket_for_user(user=request.user, ticket_id=ticket_id, change=True)
        if self.staff_only and not StaffOnly().has_permission(request, self):
            self.permission_denied(request, message=StaffOnly.message)
        data = _validated(self.serializer_class, request)
        self.act(request, ticket, data)
        self.write_target = f"ticket:{ticket.pk}"
        return Response(_detail(request, ticket_for_user(user=request.user, ticket_id=ticket.pk)))


def _action_schema(operation_id, description):
    return extend_schema(
        operation_id=operation_id,
        responses=s.StaffTicketDetailSerializer,
        description=description,
    )


class TicketStatus(_TicketAction):
    serializer_class = s.StatusSerializer

    def act(self, request, ticket, data):
        services.ticket_set_status(ticket=ticket, status=data["status"], by=request.user)

    @_action_schema(
        "tickets_status",
        "Set the status. Customers: close their ticket, reopen it (resolved, or closed within "
        "the reopen window) — the portal's rules; staff: any status.",
    )
    def post(self, request, ticket_id):
        return super().post(request, ticket_id)


class TicketPriority(_TicketAction):
    serializer_class = s.PrioritySerializer
    staff_only = True

    def act(self, request, ticket, data):
        services.ticket_set_priority(ticket=ticket, priority=data["priority"], by=request.user)

    @_action_schema("tickets_priority", "Staff: change the priority (deadlines recomputed).")
    def post(self, request, ticket_id):
        return super().post(request, ticket_id)


class TicketAssign(_TicketAction):
    serializer_class = s.AssignSerializer
    staff_only = True

    def act(self, request, ticket, data):
        assignee = None
        if data["assignee"] is not None:
            assignee = get_user_model().objects.filter(pk=data["assignee"], is_staff=True).first()
            if assignee is None:
                raise ValidationError({"assignee": "No such staff member."})
        services.ticket_assign(ticket=ticket, assignee=assignee, by=request.user)

    @_action_schema(
        "tickets_assign", "Staff: assign to a staff member who may see the ticket, or unassign."
    )
    def post(self, request, ticket_id):
        return super().post(request, ticket_id)


class TicketEscalate(_TicketAction):
    serializer_class = s.EscalateSerializer
    staff_only = True

    def act(self, request, ticket, data):
        services.ticket_escalate(ticket=ticket, by=request.user, reason=data["reason"])

    @_action_schema("tickets_escalate", "Staff: escalate to the next tier.")
    def post(self, request, ticket_id):
        return super().post(request, ticket_id)


class TicketAttachments(ApiView):
    serializer_class = s.AttachmentSerializer

    @extend_schema(
        operation_id="tickets_attachments_list", responses=s.AttachmentSerializer(many=True)
    )
    def get(self, request, ticket_id):
        ticket = ticket_for_user(user=request.user, ticket_id=ticket_id)
        page = self.paginate_queryset(ticket_attachments_for_user(user=request.user, ticket=ticket))
        return self.get_paginated_response(s.AttachmentSerializer(page, many=True).data)


class _AnyAccept(BaseContentNegotiation):
    """A download is a file whatever the client accepts; errors still come as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AttachmentDownload(ApiView):
    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="tickets_attachments_download",
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as a download, in its own type."
            )
        },
    )
    def get(self, request, ticket_id, attachment_id):
        attachment = attachment_get_for_user(
            user=request.user, ticket_id=ticket_id, attachment_id=attachment_id
        )
        return download_response(
            attachment.file, filename=attachment.name, content_type=attachment.content_type
        )
