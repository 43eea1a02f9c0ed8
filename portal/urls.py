from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from support.views import home

from . import views

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("tickets/", include("tickets.urls")),
    path("maintenance/", include("maintenance.urls")),
    path("status/", include("status.urls")),
    path("support/", include("support.urls")),
    path("kb/", include("knowledge.urls")),
    path("inbound/", include("inbound.urls")),
    path("hooks/alerts/", include("alerts.urls")),
    path("hooks/pagerduty/", include("paging.hook_urls")),
    path("paging/", include("paging.urls")),
    path("api/v2/", include("status.api_urls")),
    # The admin's log-in is the portal's two-step one (second factor, staff sign-in rules).
    path("admin/login/", account_views.admin_login),
    path("api/v1/", include("api.urls")),
    path("api/tokens/", include("api.page_urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Support portal — staff"
admin.site.site_title = "Support portal"
admin.site.index_title = "Work the queues"
