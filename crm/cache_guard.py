"""Redis as a cache the CRM can do without: after a failed call (Redis down, or stalled past the
cache's one-second timeout) the cache is skipped by this process for DOWN_FOR seconds, so a page
pays the timeout once, not once per cached read (sessions, lookup tables), and keeps answering from
PostgreSQL. crm/tests/test_healthz.py stalls a real Redis to check it."""

import logging
import time

from redis.exceptions import RedisError

DOWN_FOR = 10.0
ERRORS = (RedisError, OSError)
logger = logging.getLogger(__name__)
_down_until = 0.0


def available() -> bool:
    return time.monotonic() >= _down_until


def failed(error: BaseException) -> None:
    global _down_until
    _down_until = time.monotonic() + DOWN_FOR
    logger.warning("Redis cache unavailable (%s): reading from PostgreSQL for %d s", type(error).__name__, DOWN_FOR)


def reset() -> None:
    global _down_until
    _down_until = 0.0
