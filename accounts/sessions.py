"""Sessions: how a sign-in starts one, and when one ends before its cookie expires.

Every sign-in path (password, password + second factor, single sign-on, the verification
link) calls ``sign_in``, which records in the session what the policy below needs: how the
person signed in, the account's session generation, and when the session was last used.
``SessionPolicyMiddleware`` then ends a session at its next request when

- the account was signed out everywhere (``user_sign_out_everywhere`` raised the generation on
  the profile; the profile is read with the user, so the check costs no query);
- it is a staff session unused for ``STAFF_SESSION_IDLE_MINUTES``;
- staff must use single sign-on (``OIDC_REQUIRED_FOR_STAFF``) and it was not made by it;
- it was made by single sign-on and the identity provider, asked every
  ``OIDC_RECHECK_MINUTES``, no longer vouches for the person (``accounts.oidc``).

A deactivated account (``is_active`` off) loses its sessions at the next request without any
of this: the login backend's ``get_user`` refuses inactive users on every request.

The admin also asks staff for their second factor when ``STAFF_2FA_REQUIRED`` is on
(``process_view``): to the verify step if they have one, to the enrolment page if not; the
API token page asks it the same way (``second_factor_redirect``).
"""

import logging
import time

from django.conf import settings
from django.contrib import auth, messages
from django.db import transaction
from django.db.models import F
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from .models import Profile

logger = logging.getLogger(__name__)

METHOD_KEY = "accounts_sign_in_method"
GENERATION_KEY = "accounts_session_generation"
LAST_SEEN_KEY = "accounts_last_seen"
PENDING_KEY = "accounts_pending_sign_in"
PASSWORD, SSO = "password", "sso"
# How long a right password waits for its second factor.
PENDING_SECONDS = 300

# The last-used time is written at most this often (a session save per request would cost a
# write per page; a minute is well inside any idle limit worth setting).
LAST_SEEN_GRANULARITY = 60


def _now():
    return int(time.time())


def session_generation(user):
    """The account's current session generation; 0 when it has no profile yet."""
    try:
        # Loaded with the user by the login backend (select_related): no query.
        return user.profile.session_generation
    except Profile.DoesNotExist:
        return 0


def sign_in(request, user, *, backend, method=PASSWORD):
    """Log ``user`` in (Django's ``login``: new session key, axes' success record) and record
    what the session policy checks later."""
    auth.login(request, user, backend=backend)
    request.session[METHOD_KEY] = method
    request.session[GENERATION_KEY] = session_generation(user)
    request.session[LAST_SEEN_KEY] = _now()


def pending_start(request, user, *, backend, next_url=""):
    """Password right, second factor to come: remember who, for a few minutes, without
    signing them in (no session is theirs until the code is right)."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": backend,
        "next": next_url,
        "at": _now(),
    }


def pending_get(request):
    """``(user, backend, next_url)`` of the sign-in waiting for its second factor, or None."""
    pending = request.session.get(PENDING_KEY)
    if not pending or _now() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = auth.load_backend(pending["backend"]).get_user(pending["user"])
    if user is None:  # deactivated meanwhile
        return None
    return user, pending["backend"], pending.get("next", "")


def pending_clear(request):
    request.session.pop(PENDING_KEY, None)


def signed_in_with_sso(request):
    return request.session.get(METHOD_KEY) == SSO


@transaction.atomic
def user_sign_out_everywhere(*, user):
    """End every session of ``user``, on every device, at its next request.

    Sessions may live in the database, in the cache in front of it, or both, and neither can be
    searched by user cheaply: instead each session carries the generation it was made under,
    and raising the account's generation voids them all.
    """
    profile, _ = Profile.objects.get_or_create(user=user)
    Profile.objects.filter(pk=profile.pk).update(session_generation=F("session_generation") + 1)
    profile.refresh_from_db(fields=["session_generation"])
    return profile.session_generation


def end_session(request, message):
    """Sign the person out and send them to the log-in page, saying why."""
    next_url = request.get_full_path() if request.method == "GET" else ""
    auth.logout(request)
    messages.warning(request, message)
    url = reverse("login")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return redirect(url)


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self.check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request, user):
        session = request.session
        if session.get(GENERATION_KEY, 0) < session_generation(user):
            return end_session(request, "You were signed out everywhere. Please log in again.")
        now = _now()
        last_seen = session.get(LAST_SEEN_KEY)
        if user.is_staff:
            idle = settings.STAFF_SESSION_IDLE_MINUTES * 60
            if idle and last_seen is not None and now - last_seen > idle:
                return end_session(request, "You were signed out after a period of inactivity.")
            if settings.OIDC_REQUIRED_FOR_STAFF and not signed_in_with_sso(request):
                return end_session(request, "Staff sign in with single sign-on.")
        if signed_in_with_sso(request):
            from .oidc import session_still_vouched_for  # oidc builds on this module

            if not session_still_vouched_for(request, user, now=now):
                return end_session(
                    request, "Your identity provider ended your sign-in. Please log in again."
                )
        # Only the staff idle limit reads the last-used time: customers' sessions, and staff's
        # when no limit is set, are not saved again just to note it.
        tracked = user.is_staff and settings.STAFF_SESSION_IDLE_MINUTES
        if tracked and (last_seen is None or now - last_seen >= LAST_SEEN_GRANULARITY):
            session[LAST_SEEN_KEY] = now
        return None

    def process_view(self, request, view_func, view_args, view_kwargs):
        """The admin's pages want a second factor from staff when ``STAFF_2FA_REQUIRED``."""
        match = request.resolver_match
        if match is None or match.namespace != "admin":
            return None
        if match.url_name in ("login", "logout"):
            return None
        return second_factor_redirect(request)


def second_factor_redirect(request, *, what="use the staff pages"):
    """Where a staff member goes who owes this session a second factor (``STAFF_2FA_REQUIRED``
    on, not verified here yet): to the verify step if they have one, to the set-up page if
    not, coming back to this page after. None for anyone else, or once it is verified.

    The admin's pages ask it of every staff request; other staff-only powers outside the admin
    (creating an API token) ask it too, so a password alone never mints a staff credential.
    """
    user = request.user
    if not (user.is_authenticated and user.is_staff and settings.STAFF_2FA_REQUIRED):
        return None
    from .otp import second_factor_satisfied, user_has_second_factor

    if second_factor_satisfied(request):
        return None
    next_query = urlencode({"next": request.get_full_path()})
    if user_has_second_factor(user=user):
        return redirect(f"{reverse('two_factor_verify')}?{next_query}")
    messages.info(request, f"Set up two-factor sign-in to {what}.")
    return redirect(f"{reverse('two_factor')}?{next_query}")
