"""Sign-up, email verification, log-in and the profile. Password pages are Django's."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from . import oidc, services, sessions
from .forms import ProfileForm, ResendVerificationForm, SignupForm, apply_service_errors
from .otp import recovery_codes_left, user_has_second_factor

SIGNUP_EMAIL_SESSION_KEY = "accounts_signup_email"


def default_redirect_url(user):
    """Staff land in the admin, where they work, rather than on a customer dashboard."""
    return resolve_url("admin:index" if user.is_staff else settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Django's log-in, in two steps for an account with a second factor: a right password
    only opens the code step (``accounts.views_two_factor.verify``); the session is theirs
    after the code."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = oidc.enabled()
        context["sso_provider_name"] = settings.OIDC_PROVIDER_NAME
        context["sso_required_for_staff"] = settings.OIDC_REQUIRED_FOR_STAFF
        return context

    def get_default_redirect_url(self):
        return default_redirect_url(self.request.user)

    def form_valid(self, form):
        user = form.get_user()
        if user_has_second_factor(user=user):
            sessions.pending_start(
                self.request, user, backend=user.backend, next_url=self.get_redirect_url()
            )
            return redirect("two_factor_verify")
        sessions.sign_in(self.request, user, backend=user.backend)
        return HttpResponseRedirect(self.get_success_url())


@require_http_methods(["GET", "HEAD", "POST"])
def admin_login(request):
    """The admin's log-in page (``/admin/login/``), served by the portal's two-step log-in so
    that the second factor and the staff sign-in rules hold there too. Otherwise what
    ``AdminSite.login`` does."""
    site = admin.site
    if request.method != "POST" and site.has_permission(request):
        return redirect("admin:index")
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if settings.OIDC_REQUIRED_FOR_STAFF and oidc.enabled() and request.method != "POST":
        query = urlencode({REDIRECT_FIELD_NAME: next_url or reverse("admin:index")})
        return redirect(f"{reverse('sso_login')}?{query}")
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
    }
    if not next_url:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index")
    request.current_app = site.name
    return LoginView.as_view(
        extra_context=context,
        authentication_form=site.login_form or AdminAuthenticationForm,
        template_name=site.login_template or "admin/login.html",
    )(request)


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
    sessions.sign_in(request, user, backend="accounts.backends.EmailBackend")
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
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "profile": current,
            "two_factor_on": user_has_second_factor(user=request.user),
            "recovery_codes_left": recovery_codes_left(user=request.user),
        },
    )


@login_required
@require_POST
def sign_out_everywhere(request):
    """End every session of the account, this one included, on every device."""
    sessions.user_sign_out_everywhere(user=request.user)
    return sessions.end_session(request, "You are signed out everywhere.")
