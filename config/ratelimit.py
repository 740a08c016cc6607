"""Fixed-window rate limits on the cache (Redis in production, so exact across processes).

We use a fixed window with an atomic ``add``/``incr`` instead of DRF's timestamp-list throttles, which
read-modify-write the cache and let concurrent requests slip through.
"""

import time

from django.core.cache import cache

from config.errors import DomainError

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
    window = int(now // period)
    key = f"rl:{scope}:{ident}:{window}"
    if cache.add(key, 1, timeout=period + 1):
        used = 1
    else:
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            used = 1
    if used > limit:
        retry_after = int(period - (now % period)) + 1
        raise RateLimited(f"Too many requests; try again in {retry_after} s.", retry_after=retry_after)
