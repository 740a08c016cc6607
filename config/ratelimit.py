"""Fixed-window rate limits on the cache (Redis in production, so exact across processes).

We use a fixed window with an atomic ``add``/``incr`` instead of DRF's timestamp-list throttles, which
read-modify-write the cache and let concurrent requests slip through.

When the cache is unreachable the limits fail *open*: the request goes through and a warning is logged
(at most every 10 s per process). A rate limit protects against abuse; refusing every write of a busy
night because Redis restarted would be the bigger harm. ``CacheSafeThrottle`` does the same for DRF.
"""

import logging
import time

from django.core.cache import cache

from config.errors import DomainError
from config.logs import warn_now_and_then

log = logging.getLogger(__name__)
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
          "d": 86400, "day": 86400}


class RateLimited(DomainError):
    status_code = 429
    default_code = "throttled"


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit]


def hit(scope: str, ident: str, rate: str, *, now: float | None = None) -> None:
    """Count one hit of ``ident`` in ``scope``; raise RateLimited once the window's allowance is used."""
    limit, period = parse_rate(rate)
    now = time.time() if now is None else now
    try:
        used = _count(f"rl:{scope}:{ident}:{int(now // period)}", period)
    except Exception as exc:  # noqa: BLE001 - any cache backend's connection trouble: fail open
        cache_unavailable(f"rate limit {scope}", exc)
        return
    if used > limit:
        retry_after = int(period - (now % period)) + 1
        raise RateLimited(f"Too many requests; try again in {retry_after} s.", retry_after=retry_after)


def _count(key: str, period: int) -> int:
    if cache.add(key, 1, timeout=period + 1):
        used = 1
    else:
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            used = 1
    return used


def cache_unavailable(what: str, exc: Exception) -> None:
    warn_now_and_then(log, "Cache unavailable, %s not applied (failing open): %s", what, exc)


class CacheSafeThrottle:
    """Mixin for DRF throttles: with the cache down, let the request through (and say so in the log)."""

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - the cache backend's connection errors
            cache_unavailable(f"throttle {getattr(self, 'scope', type(self).__name__)}", exc)
            return True
