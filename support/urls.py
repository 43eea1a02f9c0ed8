from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("<slug:slug>/", views.service_support, name="service"),
]
