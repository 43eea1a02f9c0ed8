"""Two-factor pages: set up an authenticator, see or replace recovery codes, turn it off, and
the code step of the log-in (``accounts.otp`` explains the rules)."""

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import otp, sessions
from .forms import apply_service_errors
from .views import default_redirect_url


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code of your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}
        ),
    )


def _safe_next(request, url):
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """The log-in's second step: the code of the account whose password was right a moment
    ago (or, for a session signed in before a factor was required, of the signed-in account).
    Wrong codes count towards axes' lockout like wrong passwords."""
    pending = sessions.pending_get(request)
    if pending is not None:
        user, backend, next_url = pending
    elif request.user.is_authenticated and otp.user_has_second_factor(user=request.user):
        user, backend, next_url = request.user, None, request.GET.get("next", "")
    else:
        messages.info(request, "Log in first.")
        return redirect("login")
    credentials = {"username": user.get_username()}
    if settings.AXES_ENABLED and AxesProxyHandler.is_locked(request, credentials):
        return get_lockout_response(request, None, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.second_factor_check(user=user, code=form.cleaned_data["code"])
        if device is None:
            # Counted by axes with the password failures; at the limit its middleware answers
            # with the lockout page.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            form.add_error("code", "That code is not right, or was used already.")
        else:
            if backend is not None:
                sessions.pending_clear(request)
                sessions.sign_in(request, user, backend=backend)
            django_otp.login(request, device)
            if device.name == otp.RECOVERY_NAME:
                left = otp.recovery_codes_left(user=user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Replace them on the two-factor "
                    "page if you are running low.",
                )
            return redirect(_safe_next(request, next_url) or default_redirect_url(user))
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Status and actions: start the set-up, replace recovery codes, turn it off."""
    user = request.user
    enabled = otp.user_has_second_factor(user=user)
    form = CodeForm(request.POST or None)
    action = request.POST.get("action")
    if request.method == "POST" and action == "start":
        try:
            otp.authenticator_enrolment_start(user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("two_factor")
        return redirect(_with_next(request, "two_factor_setup"))
    if request.method == "POST" and action in ("codes", "disable") and form.is_valid():
        # Both need a code now: a session left open on a shared screen cannot turn it off
        # or read fresh codes.
        device = otp.second_factor_check(user=user, code=form.cleaned_data["code"])
        if device is None:
            form.add_error("code", "That code is not right, or was used already.")
        elif action == "codes":
            codes = otp.recovery_codes_replace(user=user)
            return render(request, "accounts/two_factor_codes.html", {"codes": codes})
        elif user.is_staff and settings.STAFF_2FA_REQUIRED:
            form.add_error(None, "Staff must keep two-factor sign-in on.")
        else:
            otp.two_factor_disable(user=user)
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("two_factor")
    return render(
        request,
        "accounts/two_factor.html",
        {
            "enabled": enabled,
            "form": form,
            "codes_left": otp.recovery_codes_left(user=user) if enabled else 0,
            "required": user.is_staff and settings.STAFF_2FA_REQUIRED,
        },
    )


def _with_next(request, name):
    next_url = _safe_next(request, request.GET.get("next", ""))
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Scan the QR code (or type the secret), enter the first code; the recovery codes are
    then shown, once."""
    user = request.user
    device = otp.pending_authenticator(user=user)
    if device is None:
        return redirect("two_factor")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = otp.authenticator_enrolment_confirm(
                user=user, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            apply_service_errors(form, ValidationError({"code": error.messages}))
        else:
            django_otp.login(request, device)  # this session has just proved the factor
            next_url = _safe_next(request, request.GET.get("next", ""))
            return render(
                request, "accounts/two_factor_codes.html", {"codes": codes, "next": next_url}
            )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "secret": otp.secret_for_typing(device)},
    )


@never_cache
@login_required
@require_GET
def two_factor_qr(request):
    """The pending authenticator's QR code, an SVG image (never cached: it holds the
    secret)."""
    device = otp.pending_authenticator(user=request.user)
    if device is None:
        raise Http404
    response = HttpResponse(otp.qr_code_svg(device.config_url), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response
