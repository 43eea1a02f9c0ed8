from django.urls import path

from . import views

app_name = "maintenance"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("<slug:slug>.ics", views.ics, name="ics"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscribe/confirm/<str:token>/", views.subscription_confirm, name="subscription_confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
