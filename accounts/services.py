"""Every write to accounts: sign-up, verification, profile. Each is one transaction."""

import zoneinfo

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from . import emails
from .models import Profile
from .selectors import user_email_taken
from .tokens import email_verification_token

DUPLICATE_EMAIL = (
    "An account with this email already exists. Log in, or reset your password if you "
    "have forgotten it."
)
INVALID_LINK = (
    "This verification link is invalid, has expired or has already been used. If your account "
    "is verified, log in; otherwise ask for a new link."
)


def normalize_email(email):
    """Emails are compared and stored lowercased: one address, one account."""
    return email.strip().lower()


@transaction.atomic
def user_signup(*, email, password):
    """Create an inactive account named by its email and send the verification link."""
    email = normalize_email(email)
    if user_email_taken(email=email):
        raise ValidationError({"email": DUPLICATE_EMAIL}, code="duplicate")
    user = get_user_model()(username=email, email=email, is_active=False)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from None
    user.set_password(password)
    try:
        # Two sign-ups racing for one address: the unique username decides, cleanly.
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError({"email": DUPLICATE_EMAIL}, code="duplicate") from None
    emails.verify_email(user)
    return user


@transaction.atomic
def user_resend_verification(*, email):
    """Send a fresh link to an account that was never verified; silently nothing otherwise."""
    user = (
        get_user_model()
        ._default_manager.filter(
            email__iexact=normalize_email(email), is_active=False, last_login__isnull=True
        )
        .order_by("pk")
        .first()
    )
    if user is not None:
        emails.verify_email(user)
    return user


@transaction.atomic
def user_verify_email(*, uidb64, token):
    """Activate the account the link was made for. Raises ``ValidationError`` for a bad link."""
    users = get_user_model()._default_manager
    try:
        user = users.select_for_update().get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, users.model.DoesNotExist):
        user = None
    if user is None or not email_verification_token.check_token(user, token):
        raise ValidationError(INVALID_LINK, code="invalid_link")
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def profile_get_or_create(*, user):
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_update(*, user, timezone):
    """Set the zone times are shown in; "" shows each service's times in its own zone."""
    timezone = timezone.strip()
    if timezone and timezone not in zoneinfo.available_timezones():
        raise ValidationError({"timezone": f"“{timezone}” is not a time zone we know."})
    profile = profile_get_or_create(user=user)
    profile.timezone = timezone
    profile.save(update_fields=["timezone"])
    user.__dict__.pop("_timezone_cache", None)  # the selector's memo on this user object
    return profile
