"""Reads about accounts."""

import functools
import zoneinfo

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


# The zone a visitor chose to read public pages in (static/js/visitor-zone.js sets it from the
# browser's zone when they ask); a signed-in person's profile zone wins over it.
VISITOR_ZONE_COOKIE = "portal_tz"


def request_timezone(request):
    """(zone, source) the reader of this request reads times in: their profile's zone
    ("profile"), else the zone they took from their browser on a public page ("cookie"), else
    ("", "") — UTC for incidents, each service's own zone for its maintenance."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        name = user_timezone(user=user)
        if name:
            return name, "profile"
    name = request.COOKIES.get(VISITOR_ZONE_COOKIE, "")
    return (name, "cookie") if name and _known_zone(name) else ("", "")


@functools.lru_cache(maxsize=1)
def _zone_names():
    return frozenset(zoneinfo.available_timezones())


def _known_zone(name):
    # Only a name from the zone database: a cookie is the visitor's to write.
    return name in _zone_names()


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


# Offered first in the time-zone picker: where most customers and staff of a European or
# American provider are. Each is a canonical Area/City name.
COMMON_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Helsinki",
    "Europe/Athens",
    "Europe/Istanbul",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)

# The areas of the tz database's canonical Area/City names. Everything else that
# zoneinfo.available_timezones() lists is an alias or a technical name ("Factory",
# "localtime", "posixrules", "US/Eastern", "Etc/GMT+5", "GB", "Zulu", …).
TIMEZONE_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


@functools.cache
def selectable_timezones():
    """The zones a person may choose, sorted: UTC and the Area/City names, no aliases."""
    available = zoneinfo.available_timezones()
    zones = {
        name
        for name in available
        if name.partition("/")[0] in TIMEZONE_AREAS and "/" in name and name == name.strip()
    }
    # Old spellings the tz database keeps as links (e.g. "America/Buenos_Aires" beside
    # "America/Argentina/Buenos_Aires") are still Area/City names and stay: people know them.
    return tuple(sorted(zones | ({"UTC"} & available)))
