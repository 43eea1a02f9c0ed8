"""URLs of the peer's site (bench/peers/helpdesk_settings.py)."""

from django.urls import include, path

urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
