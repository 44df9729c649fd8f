"""A Redis cache that fails soft. The cache only saves work, so when Redis is down or slow the
site should answer from the database (slower, still correct) rather than with a 500, which is
what Django's RedisCache does on a connection error.

After a failure Redis is left alone for RETRY_AFTER_SECONDS: an unreachable server then costs
one timeout every few seconds instead of one on every cache call."""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


RETRY_AFTER_SECONDS = 5


class DegradingRedisCacheClient(RedisCacheClient):
    """Each call answers as a cache that holds nothing and keeps nothing when Redis fails."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.down_until = 0.0
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # Django builds a new redis.Redis for every cache call, and redis-py fills some 170
        # response callbacks in each: a fifth of a millisecond, twice per cached page. One
        # client per connection pool does the same work (clients are thread-safe).
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def attempt(self, call, fallback, *args):
        if time.monotonic() < self.down_until:
            return fallback
        try:
            return call(*args)
        except RedisError as error:
            self.down_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning(
                "Redis is unavailable (%s): serving without the cache for %s s",
                error,
                RETRY_AFTER_SECONDS,
            )
            return fallback

    def get(self, key, default):
        return self.attempt(super().get, default, key, default)

    def get_many(self, keys):
        return self.attempt(super().get_many, {}, keys)

    def has_key(self, key):
        return self.attempt(super().has_key, False, key)

    def add(self, key, value, timeout):
        return self.attempt(super().add, False, key, value, timeout)

    def set(self, key, value, timeout):
        return self.attempt(super().set, None, key, value, timeout)

    def set_many(self, data, timeout):
        return self.attempt(super().set_many, None, data, timeout)

    def touch(self, key, timeout):
        return self.attempt(super().touch, False, key, timeout)

    def delete(self, key):
        return self.attempt(super().delete, False, key)

    def delete_many(self, keys):
        return self.attempt(super().delete_many, None, keys)

    def clear(self):
        return self.attempt(super().clear, False)

    def incr(self, key, delta):
        # A counter that cannot be read is reported as missing, as incr() does for a key
        # that is not there; callers already handle that.
        value = self.attempt(super().incr, None, key, delta)
        if value is None:
            raise ValueError(f"Key {key!r} not found: the cache is unavailable.")
        return value

    def ping(self):
        return self.get_client(write=True).ping()


class DegradingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = DegradingRedisCacheClient

    def ping(self):
        """Raises when Redis cannot be reached, for the health check, which must not degrade."""
        return self._cache.ping()
