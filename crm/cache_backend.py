"""The shared cache (Redis) with one client object per connection pool.

Django's RedisCache builds a new `redis.Redis` object for every cache call (`get_client`), and each
builds its table of some two hundred response callbacks: 0.1-0.2 ms per call on this machine, and a page
makes several calls (the session, the cached lookups of crm/lookups.py). A client is safe to share
(each command takes a connection from the pool), so one per pool is kept (docs/benchmarks.md, issue 16).
Everything else, the timeouts and the pools included, is Django's."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
