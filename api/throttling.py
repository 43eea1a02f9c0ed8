"""Rate limit per token (DRF throttling over the shared cache: Redis in production)."""

from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_cache_key(self, request, view):
        if request.auth is None:
            return None  # refused anyway; nothing to count
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
