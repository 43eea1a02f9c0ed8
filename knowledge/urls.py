"""``/kb/``: each service's knowledge base, its search, and the ticket form's suggestions."""

from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    # A dot never appears in a slug, so no service can shadow this path.
    path("suggest.json", views.suggest, name="suggest"),
    path("<slug:service_slug>/", views.article_list, name="list"),
    path("<slug:service_slug>/<slug:article_slug>/", views.article_detail, name="article"),
    path(
        "<slug:service_slug>/<slug:article_slug>/solved/",
        views.article_solved,
        name="solved",
    ),
]
