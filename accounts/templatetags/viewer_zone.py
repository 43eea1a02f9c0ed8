"""``{% viewer_zone as zone %}``: the zone the signed-in person reads times in ("" when they
chose each service's own zone), for the line every page shows."""

from django import template

from accounts.selectors import request_timezone, user_timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def viewer_zone(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return user_timezone(user=user)


@register.simple_tag(takes_context=True)
def display_zone(context):
    """``{% display_zone as zone %}`` on public pages: ``zone.name`` the zone times are shown in
    ("" for UTC / each service's own), ``zone.source`` "profile", "cookie" or ""."""
    request = context.get("request")
    name, source = request_timezone(request) if request is not None else ("", "")
    return {"name": name, "source": source}
