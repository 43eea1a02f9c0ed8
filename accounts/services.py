"""Every write to accounts: sign-up, verification, password reset, profile. Each is one
transaction."""

import copy
import logging
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.module_loading import import_string

from . import emails
from .models import Profile
from .selectors import selectable_timezones, user_by_email
from .tokens import email_verification_token

logger = logging.getLogger(__name__)

INVALID_LINK = (
    "This verification link is invalid, has expired or has already been used. If your account "
    "is verified, log in; otherwise ask for a new link."
)


ALREADY_CONFIRMED_MESSAGE = (
    "Your address is already confirmed: sign in with your email and password."
)


def normalize_email(email):
    """Emails are compared and stored lowercased: one address, one account."""
    return email.strip().lower()


@transaction.atomic
def user_signup(*, email, password):
    """Create an inactive account named by its email and send the verification link.

    An address that already has an account gets no second one: its owner is emailed instead
    ("someone tried to sign up with your address", at most hourly) and None is returned. The
    caller answers exactly as for a new address, so sign-up does not tell anyone which
    addresses have accounts. The password is checked first, so a weak one is refused the same
    way for either, and hashed either way, so the time taken does not tell them apart.
    """
    email = normalize_email(email)
    user = get_user_model()(username=email, email=email, is_active=False)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from None
    user.set_password(password)
    existing = user_by_email(email=email)
    if existing is None:
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # Two sign-ups raced for one address and the other won (the unique username
            # decides): from here on, the same as an address already taken.
            existing = user_by_email(email=email)
        else:
            emails.verify_email(user)
            return user
    if existing is not None:
        emails.signup_attempted(existing)
    return None


def user_password_reset_request(*, email):
    """Someone asked for a password-reset email to ``email``: send it in the background.

    Nothing here looks the address up, so the request does the same work, in the same time,
    whether or not the address has an account. After commit a task
    (``accounts.tasks.send_password_reset``) runs ``user_password_reset``.
    """
    transaction.on_commit(partial(_enqueue_password_reset, email), robust=True)


@transaction.atomic
def user_password_reset(*, email):
    """Record a reset email for every account ``email`` may reset (Django's rules: active,
    with a usable password), with Django's reset token. Returns how many were recorded."""
    users = list(PasswordResetForm().get_users(email))
    for user in users:
        emails.password_reset(
            user=user,
            uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
            token=default_token_generator.make_token(user),
            to=getattr(user, user.get_email_field_name()),
        )
    return len(users)


def _enqueue_password_reset(email):
    from .tasks import send_password_reset  # the task module imports this one

    try:
        send_password_reset.delay(email)
    except Exception:
        # The broker is down: record the email now rather than lose it (the outbox sweep
        # delivers it); only in this degraded case does the request do the lookup itself.
        logger.warning("Could not enqueue a password reset; recording it now", exc_info=True)
        user_password_reset(email=email)


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


ALREADY_CONFIRMED = "already_confirmed"


def _link_user(uidb64, *, for_update=False):
    users = get_user_model()._default_manager
    if for_update:
        users = users.select_for_update()
    try:
        return users.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, users.model.DoesNotExist):
        return None


def _confirmed_by(user, token):
    """Whether ``token`` is a link made for ``user`` that has since been used.

    The token hashes ``is_active`` and ``last_login``, and a link is only ever made for an
    account that is inactive and never signed in: the account as it was then must match.
    """
    if not user.is_active:
        return False
    then = copy.copy(user)
    then.is_active, then.last_login = False, None
    return email_verification_token.check_token(then, token)


def verification_link_state(*, uidb64, token):
    """What a verification link would do: ``"valid"`` (it confirms the account),
    ``ALREADY_CONFIRMED`` (its account is confirmed: a second opening) or ``"invalid"``.
    Changes nothing: opening the link (GET, or a mail scanner) shows a button."""
    user = _link_user(uidb64)
    if user is None:
        return "invalid"
    if email_verification_token.check_token(user, token):
        return "valid"
    return ALREADY_CONFIRMED if _confirmed_by(user, token) else "invalid"


@transaction.atomic
def user_verify_email(*, uidb64, token):
    """Activate the account the link was made for. Raises ``ValidationError`` for a bad link,
    with code ``ALREADY_CONFIRMED`` when the link was good and has been used already (pressed
    twice, or in two tabs): nothing to do, the person signs in.

    The account is then handed to each of ``settings.ACCOUNTS_ON_VERIFIED`` (dotted paths of
    functions taking ``user=``), in this transaction: the apps above accounts decide what a
    verified customer gets (``contracts.services.customer_onboard``).
    """
    user = _link_user(uidb64, for_update=True)
    if user is not None and _confirmed_by(user, token):
        raise ValidationError(ALREADY_CONFIRMED_MESSAGE, code=ALREADY_CONFIRMED)
    if user is None or not email_verification_token.check_token(user, token):
        raise ValidationError(INVALID_LINK, code="invalid_link")
    user.is_active = True
    user.save(update_fields=["is_active"])
    for path in settings.ACCOUNTS_ON_VERIFIED:
        import_string(path)(user=user)
    return user


@transaction.atomic
def profile_get_or_create(*, user):
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def profile_update(*, user, timezone):
    """Set the zone times are shown in; "" shows each service's times in its own zone."""
    timezone = timezone.strip()
    profile = profile_get_or_create(user=user)
    # An alias chosen before the picker offered only Area/City names may be kept, not chosen.
    if timezone and timezone not in selectable_timezones() and timezone != profile.timezone:
        raise ValidationError({"timezone": f"“{timezone}” is not a time zone we offer."})
    profile.timezone = timezone
    profile.save(update_fields=["timezone"])
    user.__dict__.pop("_timezone_cache", None)  # the selector's memo on this user object
    return profile
