"""The maintenance banner's cache: one key per service, cleared when its windows or
occurrences change (``services``, ``plan``) so the banner reads them afresh rather than within
a minute (``context_processors``)."""

from django.core.cache import cache


def banner_cache_clear(*, service_id):
    cache.delete(banner_cache_key(service_id))


def banner_cache_key(service_id):
    return f"maintenance:banner:{service_id}"
