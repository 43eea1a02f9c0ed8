from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views, views_sso, views_two_factor
from .forms import EmailAuthenticationForm, OutboxPasswordResetForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup_done"),
    path("verify/resend/", views.verify_resend, name="verify_resend"),
    path("verify/<uidb64>/<token>/", views.verify, name="verify"),
    path("profile/", views.profile, name="profile"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("sso/login/", views_sso.sso_login, name="sso_login"),
    path("sso/callback/", views_sso.sso_callback, name="sso_callback"),
    path("login/verify/", views_two_factor.verify, name="two_factor_verify"),
    path("two-factor/", views_two_factor.two_factor, name="two_factor"),
    path("two-factor/setup/", views_two_factor.two_factor_setup, name="two_factor_setup"),
    path("two-factor/qr.svg", views_two_factor.two_factor_qr, name="two_factor_qr"),
    # These three replace Django's own under the same names; the include below keeps the rest
    # (logout, password_change, password_reset_done, password_reset_confirm, …).
    path(
        "login/",
        views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
    path("", include("django.contrib.auth.urls")),
]
