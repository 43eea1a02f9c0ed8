import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils.module_loading import import_string

from .selectors import user_for_login


class EmailBackend(ModelBackend):
    """Sign in with an email address (case-insensitive) or, for staff, a username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = user_for_login(identifier=username)
        if user is None:
            # Spend the same time as a real check so timing does not reveal who has an account.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            if user.is_staff and settings.OIDC_REQUIRED_FOR_STAFF:
                # Staff sign in through the identity provider only: a right password gets
                # the same answer as a wrong one (and counts as a failure for axes).
                return None
            return user
        return None

    def get_user(self, user_id):
        # Every page shows times in the user's zone: read the profile with the user, one query;
        # and whatever the apps above ask for with it (ACCOUNTS_USER_PRELOADS).
        users = get_user_model()._default_manager.select_related("profile")
        preloads = user_preloads(tuple(getattr(settings, "ACCOUNTS_USER_PRELOADS", ())))
        for preload in preloads:
            users = preload.extend(users)
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        for preload in preloads:
            preload.loaded(user)
        return user


@functools.cache
def user_preloads(paths):
    """The classes ``ACCOUNTS_USER_PRELOADS`` names, each with ``extend(users)`` (the queryset
    of the signed-in user, narrowed: a join, an annotation) and ``loaded(user)`` (the row read,
    turned into what the pages ask for). Named in the settings, as context processors are,
    because what every page reads about the user belongs to the apps above this one (README's
    layers): here they add it to the one query a request makes for the user anyway."""
    return [import_string(path) for path in paths]


def axes_username(request, credentials):
    """The name django-axes counts log-in failures under (``AXES_USERNAME_CALLABLE``).

    The backend above signs in ``Tier3@…``, `` tier3@… `` and ``TIER3@…`` (and a staff
    member's username) as one account, so axes must count them as one too: otherwise every
    spelling gets its own five tries. The identifier is resolved the way the backend resolves
    it, to the account's username (lower-cased); one that names no account is counted as typed,
    stripped and lower-cased. The same name comes back for the success axes records after a
    log-in (its credentials carry ``user.get_username()``), so a success resets exactly the
    failures of that account and nothing else. Used for every form that calls
    ``authenticate()``: the portal's log-in and the admin's.
    """
    if credentials:
        identifier = credentials.get("username")
    else:
        identifier = getattr(request, "data", request.POST).get("username")
    if not isinstance(identifier, str):
        return identifier
    identifier = identifier.strip()
    user = user_for_login(identifier=identifier) if identifier else None
    name = user.get_username() if user is not None else identifier
    return name.strip().lower()
