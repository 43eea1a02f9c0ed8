"""Requests no page can answer: refused at the door."""

from django.core.exceptions import BadRequest
from django.http import JsonResponse

from api.problems import PROBLEM_TYPE, problem_body

NUL = "\x00"
# The REST API answers every error as problem details, this one included.
API_PREFIX = "/api/v1/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulBytesMiddleware:
    """Answers 400 to a request whose path, query string or form fields hold a NUL byte.

    PostgreSQL text cannot hold NUL: one reaching a filter, a search or a saved field raises
    ``DataError``, a 500, wherever it lands (every admin filter and search, every form, ours
    and third-party ones alike). No browser sends one in these places, so one check before any
    view replaces a check per field. Uploaded files' contents are not form fields and may hold
    NULs (images, archives); a JSON or raw body is left to the view that parses it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info or _has_nul(request.GET):
            if request.path_info.startswith(API_PREFIX):
                return _api_problem(request, "A NUL byte in the URL.")
            raise BadRequest("A NUL byte in the URL.")
        if (
            request.method == "POST"
            and request.content_type in FORM_TYPES
            and _has_nul(request.POST)
        ):
            raise BadRequest("A NUL byte in the form data.")
        return self.get_response(request)


def _api_problem(request, detail):
    body = problem_body(400, detail, instance=request.path)
    return JsonResponse(body, status=400, content_type=PROBLEM_TYPE)


def _has_nul(query):
    return any(NUL in key or any(NUL in value for value in values) for key, values in query.lists())
