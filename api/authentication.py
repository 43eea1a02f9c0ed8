"""``Authorization: Bearer <token>``: the API's only way in."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .selectors import token_for_raw
from .services import token_kind, token_touch


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Send Authorization: Bearer <token>.")
        token = token_for_raw(raw.strip())
        # One message for every refusal: nobody learns whether a prefix exists.
        refused = exceptions.AuthenticationFailed("The token is invalid, expired or revoked.")
        if token is None:
            raise refused
        now = timezone.now()
        user = token.user
        if not token.is_usable(now) or not user.is_active or token_kind(user) != token.kind:
            raise refused
        token_touch(token=token, now=now)
        return user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from /api/tokens/ (spt_…).",
        }
