from django.urls import path, re_path

from .views import (
    contracts,
    incidents,
    maintenance,
    meta,
    metrics,
    services,
    subscriptions,
    tickets,
)

app_name = "api"

urlpatterns = [
    path("schema/", meta.SchemaView.as_view(), name="schema"),
    path("tickets/", tickets.TicketList.as_view(), name="tickets"),
    path("tickets/<int:ticket_id>/", tickets.TicketDetail.as_view(), name="ticket"),
    path("tickets/<int:ticket_id>/messages/", tickets.TicketMessages.as_view(), name="messages"),
    path("tickets/<int:ticket_id>/status/", tickets.TicketStatus.as_view(), name="status"),
    path("tickets/<int:ticket_id>/priority/", tickets.TicketPriority.as_view(), name="priority"),
    path("tickets/<int:ticket_id>/assign/", tickets.TicketAssign.as_view(), name="assign"),
    path("tickets/<int:ticket_id>/escalate/", tickets.TicketEscalate.as_view(), name="escalate"),
    path(
        "tickets/<int:ticket_id>/attachments/",
        tickets.TicketAttachments.as_view(),
        name="attachments",
    ),
    path(
        "tickets/<int:ticket_id>/attachments/<int:attachment_id>/",
        tickets.AttachmentDownload.as_view(),
        name="attachment",
    ),
    path(
        "tickets/<int:ticket_id>/time-entries/",
        contracts.TicketTimeEntries.as_view(),
        name="time-entries",
    ),
    path(
        "tickets/<int:ticket_id>/time-entries/<int:entry_id>/void/",
        contracts.TimeEntryVoid.as_view(),
        name="time-entry-void",
    ),
    path("contracts/usage/", contracts.ContractUsage.as_view(), name="contract-usage"),
    path("services/", services.ServiceList.as_view(), name="services"),
    path("services/<slug:slug>/", services.ServiceDetail.as_view(), name="service"),
    path("services/<slug:slug>/metrics/", metrics.ServiceMetrics.as_view(), name="service-metrics"),
    path("maintenance/windows/", maintenance.WindowList.as_view(), name="windows"),
    path(
        "maintenance/windows/<int:window_id>/cancel/",
        maintenance.OccurrenceCancel.as_view(),
        name="occurrence-cancel",
    ),
    path(
        "maintenance/windows/<int:window_id>/move/",
        maintenance.OccurrenceMove.as_view(),
        name="occurrence-move",
    ),
    path("subscriptions/", subscriptions.SubscriptionList.as_view(), name="subscriptions"),
    path(
        "subscriptions/<slug:slug>/",
        subscriptions.SubscriptionDetail.as_view(),
        name="subscription",
    ),
    path("maintenance/occurrences/", maintenance.OccurrenceList.as_view(), name="occurrences"),
    path("incidents/", incidents.IncidentList.as_view(), name="incidents"),
    path("incidents/<int:incident_id>/", incidents.IncidentDetail.as_view(), name="incident"),
    path(
        "incidents/<int:incident_id>/updates/",
        incidents.IncidentUpdates.as_view(),
        name="incident-updates",
    ),
    path(
        "incidents/<int:incident_id>/publish/",
        incidents.IncidentPublish.as_view(),
        name="incident-publish",
    ),
    # Any other path (newlines too: a generated slug may hold one) is a problem+json 404.
    re_path(r"^[\s\S]*$", meta.NotFound.as_view()),
]
