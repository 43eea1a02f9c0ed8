"""The schema, and a problem-details 404 for any path the API does not have."""

from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from ..problems import problem_response


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3.1 document: public, like any API's documentation (no data in it)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


class NotFound(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None

    def _answer(self, request, *args, **kwargs):
        return problem_response(404, "No such endpoint.", instance=request.path)

    get = post = put = patch = delete = head = options = _answer
