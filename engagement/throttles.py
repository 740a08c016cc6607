"""Per-caller rate limits of the engagement and rewards endpoints, on config.ratelimit.

A view names its scope (``rate_scope``, or ``rate_scopes`` per HTTP method); the rate comes from
``ENGAGEMENT_RATES`` (engagement.conf). Signed-in callers are counted per user, anonymous ones per
client address. Over the limit, ``ratelimit.hit`` raises RateLimited: 429 ``throttled`` with
``retry_after``. Runs as a DRF throttle, so after authentication and permissions: a refused request
(401, 403) costs no allowance.
"""

from rest_framework.throttling import BaseThrottle

from config import ratelimit
from engagement import conf


def scope_of(request, view) -> str | None:
    return getattr(view, "rate_scopes", {}).get(request.method) or getattr(view, "rate_scope", None)


class EngagementRate(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        scope = scope_of(request, view)
        rate = conf.rate(scope) if scope else None
        if rate:
            user = request.user
            ident = f"user:{user.pk}" if user and user.is_authenticated else f"addr:{self.get_ident(request)}"
            ratelimit.hit(f"api:{scope}", ident, rate)
        return True
