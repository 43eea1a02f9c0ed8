"""Single sign-on with OpenID Connect: the authorization-code flow with PKCE (S256), through
Authlib's Django client, configured from the environment (``OIDC_*`` settings).

The provider is found by discovery (``OIDC_ISSUER`` + ``/.well-known/openid-configuration``);
the ID token is checked by Authlib against the provider's published keys (JWKS): signature,
issuer, audience, expiry and the nonce of this sign-in.

Who the person is here (``sso_user_for_claims``):

1. an account already linked to the provider's subject (``OidcIdentity``: issuer + ``sub``);
2. else the account whose email is the token's ``email``, only when the provider says it is
   verified (``email_verified``), which is then linked to the subject for good; an account
   already linked to another subject of the same provider is refused, not re-linked;
3. else a new account, named by that verified email, with no usable password: staff when the
   person's groups map to a tier, a customer when ``OIDC_FOR_CUSTOMERS`` is on (and handed to
   ``ACCOUNTS_ON_VERIFIED`` like a verified sign-up), refused otherwise.

A deactivated account is refused whichever way it was found.

With ``OIDC_GROUP_MAP`` set, the provider is the source of the person's tiers (the ``Tier N``
groups, and ``is_staff``), and of the services they work when any entry names services, at
every sign-in and every re-check. Superusers keep ``is_staff``. Without the map the provider
only authenticates and tiers stay as set in the admin.

Sessions made this way are re-checked every ``OIDC_RECHECK_MINUTES`` (``session_still_vouched_for``)
with the refresh token: a person deactivated or removed at the provider, or whose grant was
revoked, loses the session at the next request after that.
"""

import functools
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from joserfc.errors import JoseError

from .models import OidcIdentity
from .roles import TIER_LEVELS, tier_group_name
from .selectors import user_by_email

logger = logging.getLogger(__name__)

SESSION_KEY = "accounts_sso"
# Errors of a provider that is down or answering nonsense, as opposed to one saying no.
UNAVAILABLE = (requests.RequestException, ValueError, KeyError, JoseError, RuntimeError)
# What a token endpoint answers when it will not refresh for this person any more.
REFUSALS = {"invalid_grant", "invalid_client", "unauthorized_client", "access_denied"}
# A provider that cannot be asked is retried after this long; after this many intervals
# without an answer the session ends (fail closed).
RETRY_SECONDS = 60
UNANSWERED_INTERVALS = 4


class SsoRefused(ValidationError):
    """The provider said who the person is, and the portal does not let them in."""


def enabled():
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def client():
    """Authlib's client for the configured provider. Its discovery document and keys are
    kept for a day per process (a key it does not know makes Authlib fetch the keys again)."""
    return _client(
        settings.OIDC_ISSUER,
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
        settings.OIDC_SCOPES,
        settings.OIDC_TIMEOUT,
        int(time.time() // 86400),
    )


@functools.lru_cache(maxsize=4)
def _client(issuer, client_id, client_secret, scopes, timeout, day):
    return OAuth().register(
        "portal",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": scopes,
            "code_challenge_method": "S256",
            "default_timeout": timeout,
        },
    )


def _claims_options():
    # The issuer must be the configured one exactly (not merely the discovery document's).
    return {"iss": {"essential": True, "values": [settings.OIDC_ISSUER]}}


def authorization_redirect(request, redirect_uri):
    """The redirect to the provider; Authlib keeps state, nonce and PKCE verifier in the
    session."""
    return client().authorize_redirect(request, redirect_uri)


def authorization_complete(request):
    """Exchange the callback's code (with the PKCE verifier) for tokens; returns
    ``(claims, token)`` with the ID token's verified claims. Raises ``OAuthError`` for a
    refusal or a callback that is not this session's, ``UNAVAILABLE`` for a provider that
    cannot be reached."""
    oidc = client()
    token = oidc.authorize_access_token(request, claims_options=_claims_options())
    claims = token.get("userinfo")
    if not claims:
        raise OAuthError(description="The provider sent no ID token.")
    claims = dict(claims)
    if settings.OIDC_GROUP_MAP and settings.OIDC_GROUPS_CLAIM not in claims:
        # Some providers put groups in userinfo only.
        claims = {**oidc.userinfo(token=token), **claims}
    return claims, token


@dataclass(frozen=True)
class Roles:
    managed: bool  # the provider decides tiers (a group map is set)
    tiers: frozenset
    services: frozenset | None  # None: the map names no services, the admin decides them


def roles_from_claims(claims):
    mapping = settings.OIDC_GROUP_MAP or {}
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    tiers, services = set(), set()
    for name in groups:
        entry = mapping.get(name) or {}
        if entry.get("tier") in TIER_LEVELS:
            tiers.add(entry["tier"])
        services.update(entry.get("services") or ())
    names_services = any("services" in entry for entry in mapping.values())
    return Roles(
        managed=bool(mapping),
        tiers=frozenset(tiers),
        services=frozenset(services) if names_services else None,
    )


def _verified_email(claims):
    email = claims.get("email")
    # Only an address the provider vouches for may find an existing account.
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        return None
    return email.strip().lower() or None


@transaction.atomic
def sso_user_for_claims(*, issuer, claims):
    """The account the verified ID-token ``claims`` sign in as (module docstring), with its
    roles brought in line with the provider's groups. Raises ``SsoRefused``."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SsoRefused("The identity provider did not say who you are.")
    roles = roles_from_claims(claims)
    identity = (
        OidcIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is not None:
        user = identity.user
    else:
        email = _verified_email(claims)
        if email is None:
            raise SsoRefused(
                "Your identity provider did not share a verified email address, so no "
                "account here can be matched to you."
            )
        user = user_by_email(email=email)
        if user is None:
            user = _user_create(email=email, claims=claims, roles=roles)
        elif OidcIdentity.objects.filter(issuer=issuer, user=user).exists():
            raise SsoRefused(
                "This address's account here is linked to another account at your identity "
                "provider."
            )
        identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    if not user.is_active:
        raise SsoRefused("This account is deactivated. Ask an administrator.")
    roles_apply(user=user, roles=roles)
    if not user.is_staff and not settings.OIDC_FOR_CUSTOMERS:
        raise SsoRefused("Single sign-on is for staff: your account has no staff role here.")
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["last_sign_in_at"])
    return user, identity


def _user_create(*, email, claims, roles):
    is_staff = roles.managed and bool(roles.tiers)
    if not is_staff and not settings.OIDC_FOR_CUSTOMERS:
        raise SsoRefused("Single sign-on is for staff: your account has no staff role here.")
    user = get_user_model()(
        username=email,
        email=email,
        is_active=True,
        is_staff=is_staff,
        first_name=str(claims.get("given_name") or "")[:150],
        last_name=str(claims.get("family_name") or "")[:150],
    )
    user.set_unusable_password()  # signs in through the provider only
    user.save()
    if not is_staff:
        # The provider verified the address: the same welcome as a verified sign-up.
        for path in settings.ACCOUNTS_ON_VERIFIED:
            import_string(path)(user=user)
    return user


@transaction.atomic
def roles_apply(*, user, roles):
    """Tier groups, ``is_staff`` and (when the map names services) the services worked, as
    the provider's groups say. Nothing changes when no group map is set."""
    if not roles.managed:
        return
    all_tiers = [tier_group_name(level) for level in TIER_LEVELS]
    wanted = {tier_group_name(level) for level in roles.tiers}
    current = set(user.groups.filter(name__in=all_tiers).values_list("name", flat=True))
    if current - wanted:
        user.groups.remove(*Group.objects.filter(name__in=current - wanted))
    if wanted - current:
        groups = list(Group.objects.filter(name__in=wanted - current))
        if len(groups) != len(wanted - current):
            raise SsoRefused("The tier groups are missing: run the migrations.")
        user.groups.add(*groups)
    user.__dict__.pop("_tier_level_cache", None)
    is_staff = bool(roles.tiers) or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    if roles.services is not None:
        slugs = sorted(roles.services) if user.is_staff else []
        try:
            import_string(settings.ACCOUNTS_SET_STAFF_SERVICES)(user=user, service_slugs=slugs)
        except ValidationError as error:
            # A map naming a service that does not exist must not widen access to every
            # service: refuse, and say what to fix.
            raise SsoRefused(error.messages) from None


def session_started(request, *, identity, token):
    """Remember on the identity the refresh token to re-check with, and in the session which
    identity it is and when it was last checked."""
    now = timezone.now()
    OidcIdentity.objects.filter(pk=identity.pk).update(
        refresh_token=token.get("refresh_token") or "", checked_at=now
    )
    request.session[SESSION_KEY] = {"identity": identity.pk, "checked_at": int(now.timestamp())}


def session_still_vouched_for(request, user, *, now):
    """Whether a single-sign-on session may go on. Every ``OIDC_RECHECK_MINUTES`` the provider
    is asked through the refresh token (one person's sessions share one check); a refusal
    ends the session. A provider that cannot be reached is asked again a minute later, and
    ends the session after four intervals without an answer."""
    data = request.session.get(SESSION_KEY)
    if not data:
        return False
    interval = settings.OIDC_RECHECK_MINUTES * 60
    if interval <= 0 or now - data.get("checked_at", 0) < interval:
        return True
    if now < data.get("retry_at", 0):
        return True
    verdict, checked_at = _recheck(identity_id=data["identity"], user=user, interval=interval)
    if verdict is None:  # unreachable
        if now - data.get("checked_at", 0) > UNANSWERED_INTERVALS * interval:
            return False
        request.session[SESSION_KEY] = {**data, "retry_at": now + RETRY_SECONDS}
        return True
    if verdict:
        request.session[SESSION_KEY] = {"identity": data["identity"], "checked_at": checked_at}
    return verdict


@transaction.atomic
def _recheck(*, identity_id, user, interval):
    """(True, checked_at) the provider still vouches; (False, None) it does not; (None, None)
    it could not be asked. Under the identity's row lock: when another session of the person
    asked a moment ago, its answer stands."""
    identity = OidcIdentity.objects.select_for_update().filter(pk=identity_id).first()
    if identity is None or identity.user_id != user.pk:
        return False, None
    now = timezone.now()
    if identity.checked_at and (now - identity.checked_at) < timedelta(seconds=interval):
        return True, int(identity.checked_at.timestamp())
    if not identity.refresh_token:
        logger.info("Single sign-on session of user %s ends: no refresh token", user.pk)
        return False, None
    try:
        token = _refresh(identity.refresh_token)
    except OAuthError as error:
        if error.error in REFUSALS:
            logger.info("Identity provider refused user %s: %s", user.pk, error.error)
            identity.refresh_token = ""
            identity.save(update_fields=["refresh_token"])
            return False, None
        logger.warning("Identity provider re-check failed for user %s: %s", user.pk, error)
        return None, None
    except UNAVAILABLE as error:
        logger.warning("Identity provider unreachable for user %s: %s", user.pk, error)
        return None, None
    if token.get("id_token"):
        try:
            claims = client().parse_id_token(token, nonce=None, claims_options=_claims_options())
        except UNAVAILABLE as error:
            logger.warning("Refreshed ID token of user %s not valid: %s", user.pk, error)
            return False, None
        if claims.get("sub") != identity.subject:
            return False, None
        try:
            roles_apply(user=user, roles=roles_from_claims(claims))
        except SsoRefused:
            return False, None
        if not user.is_staff and not settings.OIDC_FOR_CUSTOMERS:
            return False, None
    identity.refresh_token = token.get("refresh_token") or identity.refresh_token
    identity.checked_at = now
    identity.save(update_fields=["refresh_token", "checked_at"])
    return True, int(now.timestamp())


def _refresh(refresh_token):
    metadata = client().load_server_metadata()
    with OAuth2Session(
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
        scope=settings.OIDC_SCOPES,
        default_timeout=settings.OIDC_TIMEOUT,
    ) as session:
        return session.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
