"""Staff tiers are the auth groups ``Tier 1``, ``Tier 2`` and ``Tier 3``."""

from django.contrib.auth import get_user_model

TIER_LEVELS = (1, 2, 3)
TOP_TIER = TIER_LEVELS[-1]


def tier_group_name(level):
    return f"Tier {level}"


def staff_tier_level(user):
    """The highest tier a staff member works in; superusers see every tier; others None."""
    if not (user.is_active and user.is_staff):
        return None
    if user.is_superuser:
        return TOP_TIER
    cached = getattr(user, "_tier_level_cache", False)
    if cached is not False:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    levels = [level for level in TIER_LEVELS if tier_group_name(level) in names]
    user._tier_level_cache = max(levels) if levels else None
    return user._tier_level_cache


def tier_members(level):
    """Active staff of exactly this tier, who hear of tickets that land in it."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, groups__name=tier_group_name(level))
        .exclude(email="")
    )
