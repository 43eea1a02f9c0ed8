"""Every write of the api app: tokens made, revoked and touched, and writes recorded."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import staff_tier_level

from .models import ApiToken, ApiWrite

# "spt_" (support portal token) tells a leaked token apart in logs and secret scanners.
TOKEN_PREFIX = "spt_"  # noqa: S105 (a label, not a secret)
MAX_LIFETIME = timedelta(days=366)
# last_used_at is written at most this often per token: a busy integration costs one UPDATE
# a minute, not one per request.
TOUCH_INTERVAL = timedelta(minutes=1)


def token_digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def token_kind(user):
    return ApiToken.Kind.STAFF if staff_tier_level(user) is not None else ApiToken.Kind.CUSTOMER


def split_token(raw):
    """The lookup prefix of ``spt_<prefix>_<secret>``, or None when it is not of that form."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != 8 or not secret:
        return None
    return prefix


def token_validate(*, user, name, scope, expires_at, now=None):
    """Raise ``ValidationError`` (by field) unless a token may be made with these values."""
    now = now or timezone.now()
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Name the token (what will use it)."
    if scope not in ApiToken.Scope.values:
        errors["scope"] = "Choose read or write."
    if expires_at is None or expires_at <= now:
        errors["expires_at"] = "A token must expire in the future."
    elif expires_at - now > MAX_LIFETIME:
        errors["expires_at"] = "A token may live at most a year."
    if user is not None and not user.is_active:
        errors["user"] = "The user is inactive."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def token_create(*, user, name, scope, expires_at, by=None):
    """Make a token for ``user``; returns ``(token, raw)``: the raw value is shown once."""
    now = timezone.now()
    token_validate(user=user, name=name, scope=scope, expires_at=expires_at, now=now)
    name = name.strip()
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        digest=token_digest(raw),
        scope=scope,
        kind=token_kind(user),
        created_at=now,
        created_by=by or user,
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token, by):
    """Revoke a token (its user, or an admin through Django admin); revoking twice is a no-op."""
    if by.pk != token.user_id and not by.is_superuser:
        raise PermissionDenied("Only the token's user or an administrator may revoke it.")
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def token_touch(*, token, now):
    """Record that ``token`` was used, unless that was recorded within the last minute."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return
    # Conditional, so concurrent requests of one token write once between them.
    ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gte=now - TOUCH_INTERVAL).update(
        last_used_at=now
    )
    token.last_used_at = now


def api_write_record(*, token, method, path, target=""):
    """Record a write made with ``token``; call inside the write's transaction."""
    return ApiWrite.objects.create(
        token=token, user_id=token.user_id, method=method, path=path[:300], target=target[:100]
    )
