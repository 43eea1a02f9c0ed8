from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("<slug:service_slug>/<slug:name>/", views.receive, name="receive"),
]
