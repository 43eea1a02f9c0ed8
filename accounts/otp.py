"""Two-factor sign-in: an authenticator app (TOTP, RFC 6238) and single-use recovery codes,
stored as django-otp devices.

A person with a confirmed authenticator is asked for a code after their password, before any
session is theirs (``accounts.views_two_factor.verify``). Staff must have one when
``STAFF_2FA_REQUIRED`` is on: the admin sends them to enrolment until they do
(``accounts.sessions.SessionPolicyMiddleware.process_view``). A session made by single sign-on
counts as verified: the identity provider decides how its people authenticate.

Wrong codes are throttled twice: django-otp delays each device after a failure (doubling), and
every wrong code counts as a failed log-in for django-axes, in the same count as wrong
passwords, so ``AXES_FAILURE_LIMIT`` wrong codes lock the account like wrong passwords do.
"""

import base64
import io

import qrcode
import qrcode.image.svg
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .sessions import signed_in_with_sso

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def user_has_second_factor(*, user):
    """Whether the account has a confirmed authenticator (recovery codes come with it)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_satisfied(request):
    """Whether this session passed a second factor (or single sign-on, which stands for one)."""
    user = request.user
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified()) or signed_in_with_sso(request)


def recovery_codes_left(*, user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def pending_authenticator(*, user):
    """The authenticator being set up (shown as a QR code until its first code is entered)."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()


@transaction.atomic
def authenticator_enrolment_start(*, user):
    """A new, unconfirmed authenticator secret for ``user`` (the same one if asked again)."""
    if user_has_second_factor(user=user):
        raise ValidationError("Two-factor sign-in is already set up.")
    device = pending_authenticator(user=user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


@transaction.atomic
def authenticator_enrolment_confirm(*, user, code):
    """Confirm the pending authenticator with its first code; returns ``(device, codes)``, the
    recovery codes in clear, to be shown once (only their values are stored, as django-otp
    does, and each works once)."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        raise ValidationError("Start the set-up again: no authenticator is waiting.")
    if not device.verify_token(_clean(code)):
        raise ValidationError(
            "That code is not right. Check the clock of the device and enter the code shown now."
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # A person who set up, dropped and set up again has no stale secrets lying around.
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return device, recovery_codes_replace(user=user)


@transaction.atomic
def recovery_codes_replace(*, user):
    """New recovery codes for ``user`` (the old ones stop working); returns them in clear."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_disable(*, user):
    """Remove the authenticator and recovery codes of ``user``."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def second_factor_check(*, user, code):
    """The device that accepts ``code`` (an authenticator code, or a recovery code, which is
    then used up), or None. Devices are locked first, so two requests cannot both spend one
    recovery code or replay one authenticator code."""
    code = _clean(code)
    if not code:
        return None
    devices = [
        *TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True),
        *StaticDevice.objects.select_for_update().filter(user=user, confirmed=True),
    ]
    for device in devices:
        if device.verify_token(code):
            return device
    return None


def qr_code_svg(uri):
    """The QR code of ``uri`` as an SVG document: one path, no style attribute (the CSP
    allows no inline style)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def secret_for_typing(device):
    """The authenticator's secret in base32 groups of four, for apps that cannot scan."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code):
    return "".join(str(code or "").split()).lower()
