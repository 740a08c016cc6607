"""django-csp's middleware with the policy header built once per process instead of on every response.

django-csp rebuilds the Content-Security-Policy header from the settings on every response (a deep copy of
the directives, then the string), about 0.1 ms of CPU a request: on the door's bare floor, a few per cent
of the whole request (BENCHMARKS.md, "The common request path"). Plaudit's policy is the same for every
response, so this builds it once and reuses the string. Anything that makes one response's policy
differ falls back to django-csp's own per-response building, unchanged: a nonce that was used
(``request.csp_nonce``), the ``csp_update``/``csp_replace``/``csp_override``/``csp_exempt`` decorators.
A settings change (tests' ``override_settings``) drops the kept strings.
"""

from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# The attributes django-csp's decorators set on a response to change its policy.
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
                 "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro")


@cache
def policies() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(header, policy, excluded path prefixes) for the enforced and the report-only policy, when set."""
    found = []
    for header, name, report_only in ((HEADER, "CONTENT_SECURITY_POLICY", False),
                                      (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True)):
        policy = build_policy(report_only=report_only)
        if policy:
            config = getattr(settings, name, None) or {}
            found.append((header, policy, tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ())))
    return tuple(found)


@receiver(setting_changed)
def _forget(*, setting, **kwargs) -> None:
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY", "DEBUG"):
        policies.cache_clear()


class CSPMiddleware(BaseCSPMiddleware):
    def process_response(self, request, response):
        nonce_used = getattr(request, "_csp_nonce", None) is not None
        if nonce_used or any(getattr(response, name, None) is not None for name in _PER_RESPONSE):
            return super().process_response(request, response)
        # As django-csp: with DEBUG, its technical 404 and 500 pages keep working without a policy.
        if not (settings.DEBUG and response.status_code in (404, 500)):
            for header, policy, excluded in policies():
                if header not in response and not request.path_info.startswith(excluded):
                    response[header] = policy
        # As django-csp: a nonce asked for after the header was written must fail loudly.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
