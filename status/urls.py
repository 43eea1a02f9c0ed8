from django.urls import path

from . import views

urlpatterns = [
    path("", views.status, name="status"),
    path("status.json", views.status_json, name="status_json"),
]
