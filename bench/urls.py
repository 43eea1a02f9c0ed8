"""The portal's URLs plus ``/bench/minimal/``, the least a signed-in page can do
(bench/settings.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path


@login_required
def minimal(request):
    """Signed in (session, user loaded), no query of its own, a few bytes of text."""
    return HttpResponse(f"Hello {request.user.get_username()}", content_type="text/plain")


urlpatterns = [
    path("bench/minimal/", minimal, name="bench-minimal"),
    path("", include("portal.urls")),
]
