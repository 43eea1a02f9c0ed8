"""``{% layout_url "name" %}``: ``{% url "name" %}`` for the links of the layout and of the
customer pages that take no argument, reversed once per process instead of on every page.

base.html links a dozen pages; reversing them was ~0.9 ms of each page's CPU, more than the
rest of the navigation. A reversed URL depends only on the URLconf in force and the script
prefix (the path the portal is mounted under), so it is kept under those with the name, and a
request under another prefix or URLconf gets its own.
"""

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

# A handful of names × the prefixes and URLconfs a process serves: a few entries.
_reversed = {}


@register.simple_tag
def layout_url(name):
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name)
    url = _reversed.get(key)
    if url is None:
        url = _reversed[key] = reverse(name)
    return url
