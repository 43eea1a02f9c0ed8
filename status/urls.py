from django.urls import path

from . import views

urlpatterns = [
    path("", views.status, name="status"),
    path("status.json", views.status_json, name="status_json"),
    path("history/", views.history, name="status_history"),
    path("incidents/<int:incident_id>/", views.incident, name="status_incident"),
    path("feed.atom", views.feed, name="status_feed"),
    path("badge/<slug:slug>.svg", views.badge, name="status_badge"),
]
