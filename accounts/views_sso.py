"""Single sign-on pages: off to the identity provider, and back (``accounts.oidc``)."""

import logging

from authlib.common.errors import AuthlibBaseError
from django.conf import settings
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from joserfc.errors import JoseError

from . import oidc, sessions
from .views import default_redirect_url

logger = logging.getLogger(__name__)

NEXT_KEY = "accounts_sso_next"


def _failed(request, reason, status):
    return render(
        request,
        "accounts/sso_failed.html",
        {"reason": reason, "provider": settings.OIDC_PROVIDER_NAME},
        status=status,
    )


@never_cache
@require_GET
def sso_login(request):
    if not oidc.enabled():
        raise Http404
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    request.session[NEXT_KEY] = next_url
    try:
        return oidc.authorization_redirect(
            request, request.build_absolute_uri(reverse("sso_callback"))
        )
    except oidc.UNAVAILABLE:
        logger.warning("Identity provider unreachable at sign-in", exc_info=True)
        return _failed(request, "The identity provider cannot be reached just now.", 502)


@never_cache
@require_GET
def sso_callback(request):
    """The provider sends the person back here with a code: exchanged for tokens (with the
    PKCE verifier), the ID token verified, the account found or made, and signed in."""
    if not oidc.enabled():
        raise Http404
    try:
        claims, token = oidc.authorization_complete(request)
    except (AuthlibBaseError, JoseError) as error:
        logger.info("Single sign-on did not complete: %s", error)
        return _failed(request, "The sign-in did not complete. Please try again.", 400)
    except oidc.UNAVAILABLE:
        logger.warning("Identity provider unreachable at callback", exc_info=True)
        return _failed(request, "The identity provider cannot be reached just now.", 502)
    try:
        user, identity = oidc.sso_user_for_claims(issuer=settings.OIDC_ISSUER, claims=claims)
    except oidc.SsoRefused as refusal:
        return _failed(request, " ".join(refusal.messages), 403)
    except IntegrityError:
        # Two first sign-ins of one person raced; the other made the account.
        return _failed(request, "The sign-in did not complete. Please try again.", 409)
    next_url = request.session.pop(NEXT_KEY, "")
    sessions.sign_in(request, user, backend="accounts.backends.EmailBackend", method=sessions.SSO)
    oidc.session_started(request, identity=identity, token=token)
    return redirect(next_url or default_redirect_url(user))
