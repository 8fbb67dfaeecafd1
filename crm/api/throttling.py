"""Rate limiting per token (per user for a browser session): API_RATE_LIMIT, default 600/minute.

A fixed window counted with Redis' atomic INCR: one round trip, exact under concurrency
(DRF's own throttles keep a list of timestamps per client and can lose updates in a race).
Over the limit the answer is 429 with Retry-After: the seconds until the window ends.
"""

import logging
import math
import time

from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from crm.models import ApiToken

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'600/minute' → (600, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period[0]]


class TokenRateThrottle(BaseThrottle):
    scope = "api"

    def allow_request(self, request, view):
        # Read on every request, so a changed setting applies at once (tests override it).
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if not rate:
            return True
        self.limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{self.client_id(request)}:{period}:{window}"
        try:
            cache.add(key, 0, timeout=period + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # the window's key expired between add and incr
                cache.set(key, 1, timeout=period + 1)
                count = 1
        except RedisError:
            # Fail open: an unreachable cache must not take the API down with it (/healthz reports it).
            logger.warning("API rate limit not applied: the cache is unreachable", exc_info=True)
            return True
        self.remaining = max(0, self.limit - count)
        self.reset_in = max(1, math.ceil((window + 1) * period - now))
        request.rate_limit = self  # the view copies it into X-RateLimit-* headers
        return count <= self.limit

    def wait(self):
        return self.reset_in

    def client_id(self, request) -> str:
        if isinstance(request.auth, ApiToken):
            return f"token:{request.auth.pk}:{request.auth.key_hash[:16]}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"ip:{self.get_ident(request)}"
