"""``/api/v2/*.json``: the status page as Statuspage's public v2 documents (``statuspage``).

Anyone may read them from any origin (``Access-Control-Allow-Origin: *``: widgets on other
sites fetch them), and they are cached 30 s, in the browser and proxies (``max-age=30``) and
in the Django cache, so a popular widget costs a few queries a minute, not one per visitor.
"""

from django.core.cache import cache
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import statuspage

CACHE_SECONDS = 30


def public_json(data, *, status=200):
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@require_safe
def document(request, kind):
    key = f"status:statuspage-v2:{kind}"
    data = cache.get(key)
    if data is None:
        data = statuspage.document(kind, timezone.now())
        cache.set(key, data, CACHE_SECONDS)
    return public_json(data)
