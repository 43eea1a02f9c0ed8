"""Rate limit per token (DRF throttling over the shared cache: Redis in production)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_rate(self):
        # Read when asked, not copied at import: API_TOKEN_RATE set at deploy (or in a test).
        return settings.API_TOKEN_RATE

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None  # refused anyway; nothing to count
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
