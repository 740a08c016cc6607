"""Login lockout with django-axes: failures are counted per account and per client address on every
login path (/accounts/login/, /admin/login/, POST /api/v1/auth/token).

axes does the counting (database handler, so every process sees the same counts); here we only tell it
where the client address is and how a lockout answers: a page with a clear message for the forms, the
API's JSON ``{"detail", "code": "login_locked"}`` for the API, both 429 with Retry-After.
"""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.shortcuts import render

from config.errors import DomainError


class LoginLocked(DomainError):
    status_code = 429
    default_code = "login_locked"


def client_ip(request) -> str | None:
    """The client address for axes: REMOTE_ADDR, which config.proxies has made trustworthy."""
    return request.META.get("REMOTE_ADDR")


def retry_after_seconds(request=None) -> int:
    """How long a lockout lasts (AXES_COOLOFF_TIME): failures older than that no longer count."""
    cool_off = get_cool_off(request)
    return max(1, int(cool_off.total_seconds())) if cool_off else 3600


class LockoutBackend(AxesStandaloneBackend):
    """axes' lockout check, except for authenticate() calls without a request: those come from code
    on the server (a shell, a test), not from a login form or the API, and axes would raise on them."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked(request) -> LoginLocked:
    """The API's refusal for a locked-out login (raised by the token view)."""
    seconds = retry_after_seconds(request)
    minutes = max(1, round(seconds / 60))
    return LoginLocked(f"Too many failed logins; try again in {minutes} minute(s).", retry_after=seconds)


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what a locked-out login attempt is answered with."""
    seconds = retry_after_seconds(request)
    if request.path.startswith("/api/"):
        error = locked(request)
        response = JsonResponse({"detail": error.message, "code": error.code, "retry_after": seconds}, status=429)
    else:
        context = {"minutes": max(1, round(seconds / 60))}
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
