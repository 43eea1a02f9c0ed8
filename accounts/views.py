"""Sign-up, email verification and the profile. Log-in and password pages are Django's."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_http_methods

from . import services
from .forms import ProfileForm, ResendVerificationForm, SignupForm, apply_service_errors

SIGNUP_EMAIL_SESSION_KEY = "accounts_signup_email"


class LoginView(auth_views.LoginView):
    """Django's log-in; staff with no ``next`` land in the admin, where they work, rather than
    on a customer dashboard they have no use for."""

    def get_default_redirect_url(self):
        if self.request.user.is_staff:
            return resolve_url("admin:index")
        return super().get_default_redirect_url()


class LogoutView(auth_views.LogoutView):
    """Django's log-out, then a word on the page it lands on: without it the home page simply
    reappears and people wonder whether they are still signed in. The message is kept in the
    messages cookie, which outlives the session the log-out just ended."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You have signed out.")
        return response


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_signup(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # The same answer whether or not the address had an account (its owner is emailed
            # instead of a second account being made): nothing to enumerate.
            request.session[SIGNUP_EMAIL_SESSION_KEY] = services.normalize_email(
                form.cleaned_data["email"]
            )
            return redirect("signup_done")
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "HEAD"])
def signup_done(request):
    email = request.session.get(SIGNUP_EMAIL_SESSION_KEY, "")
    return render(request, "accounts/signup_done.html", {"email": email})


@require_http_methods(["GET", "POST"])
def verify_resend(request):
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_resend_verification(email=form.cleaned_data["email"])
        # The same answer whether or not the address has an account: nothing to enumerate.
        request.session[SIGNUP_EMAIL_SESSION_KEY] = form.cleaned_data["email"]
        return redirect("signup_done")
    return render(request, "accounts/verify_resend.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request, uidb64, token):
    """GET shows a "Confirm my address" button and changes nothing (mail scanners and link
    previews open links before the person does); POST confirms. Opening or pressing it again
    after it worked says the address is already confirmed."""
    if request.method != "POST":
        state = services.verification_link_state(uidb64=uidb64, token=token)
        if state == "invalid":
            return render(
                request,
                "accounts/verify_failed.html",
                {"reason": services.INVALID_LINK},
                status=400,
            )
        if state == services.ALREADY_CONFIRMED:
            return render(request, "accounts/verify_already.html")
        return render(request, "accounts/verify_confirm.html")
    try:
        user = services.user_verify_email(uidb64=uidb64, token=token)
    except ValidationError as error:
        if error.code == services.ALREADY_CONFIRMED:
            return render(request, "accounts/verify_already.html")
        return render(
            request, "accounts/verify_failed.html", {"reason": " ".join(error.messages)}, status=400
        )
    request.session.pop(SIGNUP_EMAIL_SESSION_KEY, None)
    login(request, user, backend="accounts.backends.EmailBackend")
    messages.success(request, "Your email address is confirmed. Welcome to the support portal.")
    return redirect("home")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    current = services.profile_get_or_create(user=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST, current=current.timezone)
        if form.is_valid():
            try:
                services.profile_update(user=request.user, timezone=form.cleaned_data["timezone"])
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("profile")
    else:
        form = ProfileForm(initial={"timezone": current.timezone}, current=current.timezone)
    return render(request, "accounts/profile.html", {"form": form, "profile": current})
