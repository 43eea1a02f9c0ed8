"""The emails an account's life causes, each recorded in the outbox under a unique key."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from notifications.rendering import absolute_url
from notifications.services import notification_create

from .roles import tier_members
from .tokens import email_verification_token


def _valid_days():
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def verify_email(user):
    """The link that proves the address is the user's; following it activates the account."""
    token = email_verification_token.make_token(user)
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    notification_create(
        # One row per link: a re-sent link is a new email, the same link is never sent twice.
        key=f"accounts:user:{user.pk}:verify:{token}",
        to=user.email,
        template="accounts/verify_email",
        context={
            "user": user,
            "url": absolute_url(reverse("verify", args=[uidb64, token])),
            "valid_days": _valid_days(),
        },
    )


def password_reset(*, user, uidb64, token, to):
    notification_create(
        # Each request is its own email, even when two requests yield the same token.
        key=f"accounts:user:{user.pk}:password_reset:{token}:{secrets.token_hex(8)}",
        to=to,
        template="accounts/password_reset",
        context={
            "user": user,
            "url": absolute_url(reverse("password_reset_confirm", args=[uidb64, token])),
            "valid_days": _valid_days(),
        },
    )


def signup_attempted(user, *, now=None):
    """Tell an account's owner that someone tried to sign up with its address (the sign-up
    page answers as for a new address, so only the owner learns the address is taken)."""
    if not user.email:
        return
    now = now or timezone.now()
    notification_create(
        # At most one warning per account per clock hour, however often the form is sent.
        key=f"accounts:user:{user.pk}:signup_attempted:{now:%Y-%m-%dT%H}",
        to=user.email,
        template="accounts/signup_attempted",
        context={
            "user": user,
            # Signed up but never verified: a new verification link is what helps.
            "pending": not user.is_active and user.last_login is None,
            "login_url": absolute_url(reverse("login")),
            "reset_url": absolute_url(reverse("password_reset")),
            "resend_url": absolute_url(reverse("verify_resend")),
        },
    )


def signup_staff_recipients():
    """Who hears of a sign-up waiting for access: Tier 1 (the front line), else, when nobody
    is in Tier 1, the superusers, so a sign-up is never left unseen."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    tier1 = list(tier_members(1).order_by("pk"))
    return tier1 or list(users.filter(is_superuser=True).order_by("pk"))


def signup_waiting(user):
    """Tell staff that a verified customer waits for access to a service (once per account)."""
    url = absolute_url(reverse("admin:accounts_pendingsignup_changelist"))
    for member in signup_staff_recipients():
        notification_create(
            key=f"accounts:user:{user.pk}:waiting:staff:{member.pk}",
            to=member.email,
            template="accounts/signup_waiting",
            context={"customer": user, "recipient": member, "url": url},
        )


def access_granted(user, service):
    """Tell a customer who had no access that they may now file tickets for ``service``."""
    if not user.email:
        return
    notification_create(
        key=f"accounts:user:{user.pk}:access_granted",
        to=user.email,
        template="accounts/access_granted",
        context={
            "user": user,
            "service": service,
            "url": absolute_url(reverse("tickets:new")),
        },
    )
