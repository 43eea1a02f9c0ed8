"""Reads about accounts."""

from django.contrib.auth import get_user_model

from .models import Profile


def user_timezone(*, user):
    """The zone the user chose to read times in, or "" for each service's own zone."""
    if not user.is_authenticated:
        return ""
    # The banner and the page both ask; remember the answer on the request's user object.
    if not hasattr(user, "_timezone_cache"):
        try:
            # Loaded with the user by the login backend (no query); else read here, once.
            user._timezone_cache = user.profile.timezone
        except Profile.DoesNotExist:
            user._timezone_cache = ""
    return user._timezone_cache


def user_for_login(*, identifier):
    """The account a log-in identifier names: its email in any case, else (staff) its username."""
    users = get_user_model()._default_manager
    return (
        users.filter(email__iexact=identifier).order_by("pk").first()
        or users.filter(username=identifier).first()
    )


def user_by_email(*, email):
    """The account that uses this email (or has it as its username), any case; or None."""
    users = get_user_model()._default_manager
    return (
        users.filter(email__iexact=email).order_by("pk").first()
        or users.filter(username__iexact=email).order_by("pk").first()
    )
