"""Django's Redis cache, for which a Redis that is down is a cache miss, not an error page.

What the portal caches (sessions in front of their table, the banner's upcoming windows) can
always be read again from PostgreSQL, so an unreachable Redis must cost speed, not pages: a
read answers "not cached", and a write or a delete is skipped and logged.

A skipped delete would leave a stale entry behind: a signed-out session still cached, a banner
for a cancelled window. So no entry lives longer than ``MAX_TIMEOUT`` seconds (5 minutes by
default), whatever timeout its caller asked for: after an outage the cache heals itself within
that bound, and sessions are re-read from their table at most that often.
"""

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_MAX_TIMEOUT = 300


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.max_timeout = int(params.get("MAX_TIMEOUT", DEFAULT_MAX_TIMEOUT))

    def get_backend_timeout(self, timeout=DEFAULT_TIMEOUT):
        timeout = super().get_backend_timeout(timeout)
        return self.max_timeout if timeout is None else min(timeout, self.max_timeout)

    def _unavailable(self, operation, error, level=logging.WARNING):
        logger.log(level, "cache %s skipped, Redis unavailable: %s", operation, error)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            self._unavailable("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            self._unavailable("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as error:
            self._unavailable("has_key", error)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            self._unavailable("add", error)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            self._unavailable("set", error)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            self._unavailable("set_many", error)
            return list(data)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            # Stale for at most max_timeout; logged as an error so an outage is noticed.
            self._unavailable("delete", error, level=logging.ERROR)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except RedisError as error:
            self._unavailable("delete_many", error, level=logging.ERROR)
