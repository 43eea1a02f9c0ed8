"""The maintenance banner on every portal page.

A signed-in customer sees, for each service they are a customer of, every window from its first
notice to its end: what, when in their own zone (profile) or else the service's, and the
expected impact; "in progress" while it runs. Anonymous visitors see none (the status page is
public). Cost per page: one query for the user's services, one for their zone, one cache read;
a service's upcoming occurrences are recomputed at most once a minute per cache.
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from core.zones import zone

from .banner import banner_cache_key
from .selectors import banner_occurrences, services_of_user, viewer_timezone

CACHE_SECONDS = 60


@dataclass(frozen=True)
class Banner:
    title: str
    message: str
    level: str
    in_progress: bool


def maintenance_banner(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"maintenance_banners": []}
    return {"maintenance_banners": banners_for(user=user, now=timezone.now())}


def banners_for(*, user, now):
    service_ids = services_of_user(user)
    if not service_ids:
        return []
    keys = {banner_cache_key(sid): sid for sid in service_ids}
    cached = cache.get_many(list(keys))
    missing = [sid for key, sid in keys.items() if key not in cached]
    if missing:
        fresh = banner_occurrences(service_ids=missing, now=now)
        cache.set_many(
            {banner_cache_key(sid): items for sid, items in fresh.items()}, CACHE_SECONDS
        )
        cached.update({banner_cache_key(sid): items for sid, items in fresh.items()})
    viewer_tz = viewer_timezone(user)
    items = sorted(
        (item for items in cached.values() for item in items), key=lambda i: i["starts_at"]
    )
    banners = []
    for item in items:
        if not (item["shows_from"] <= now < item["ends_at"]):
            continue
        tz_name = viewer_tz or item["service_tz"]
        tz = zone(tz_name)
        starts, ends = item["starts_at"].astimezone(tz), item["ends_at"].astimezone(tz)
        same_day = starts.date() == ends.date()
        when = (
            f"{starts:%a %d %b %Y, %H:%M}–{ends:%H:%M} {tz_name}"
            if same_day
            else f"{starts:%a %d %b %Y, %H:%M} – {ends:%a %d %b, %H:%M} {tz_name}"
        )
        impact = f" Expected impact: {item['impact']}" if item["impact"] else ""
        if item["starts_at"] <= now:
            banners.append(
                Banner(
                    title=f"Maintenance in progress: {item['service']} — {item['window']}.",
                    message=f"Until {ends:%H:%M} {tz_name} ({when}).{impact}",
                    level="warning",
                    in_progress=True,
                )
            )
        else:
            banners.append(
                Banner(
                    title=f"Planned maintenance: {item['service']} — {item['window']}.",
                    message=f"{when}.{impact}",
                    level="info",
                    in_progress=False,
                )
            )
    return banners
