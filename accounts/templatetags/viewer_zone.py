"""``{% viewer_zone as zone %}``: the zone the signed-in person reads times in ("" when they
chose each service's own zone), for the line every page shows."""

from django import template

from accounts.selectors import user_timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def viewer_zone(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return user_timezone(user=user)
