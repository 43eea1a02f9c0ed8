"""Mounted at ``/hooks/pagerduty/`` (beside ``/hooks/alerts/``): PagerDuty posting back."""

from django.urls import path

from . import views

app_name = "paging_hooks"

urlpatterns = [
    path("<slug:service_slug>/<slug:name>/", views.pagerduty_webhook, name="pagerduty"),
]
