"""Middleware of the shared ground.

``InputGuardMiddleware`` refuses, before any view runs, a path, query string or header with text the
database cannot store. A NUL in ``/board/?activity=a%00b`` or in a ``<str:...>`` path segment used to
reach a PostgreSQL query and come back as a 500. Body text is checked by config/parsers.py; this is the
same check for the URL, for every page and endpoint at once. The answer is JSON with a stable code (the
Point System's ``{"detail"}`` shape is a subset of it). It also answers a DomainError that escapes a
plain Django view (a page refusing a malformed query parameter) with the same JSON the API uses.

``DatabaseUnavailableMiddleware`` turns a lost database connection into a 503 instead of a 500.
"""

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from config.error_pages import wants_json
from config.errors import DomainError
from config.exceptions import suspicious_payload
from config.logs import warn_now_and_then
from config.parsers import InputRefused, refuse_bad_text

log = logging.getLogger("plaudit.database")


class DatabaseUnavailableMiddleware:
    """A request whose database connection is lost (PostgreSQL restarting, a failover, a network cut)
    answers 503 ``database_unavailable`` with ``Retry-After`` instead of a 500. Whatever the request had
    written is rolled back with its transaction, so nothing is half-written; the next request gets a
    fresh connection (``CONN_HEALTH_CHECKS``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_LOST):
            return database_unavailable(request, exception)
        return None


DATABASE_LOST = (OperationalError, InterfaceError)


def database_unavailable(request, exception: Exception) -> HttpResponse:
    """503 ``database_unavailable`` with ``Retry-After``: JSON for API clients, plain text for pages."""
    warn_now_and_then(log, "Database unavailable, answering 503: %s", exception, every=5)
    detail = _("The database is unavailable; try again in a few seconds.")
    if wants_json(request):
        response = JsonResponse({"detail": detail, "code": "database_unavailable"}, status=503)
    else:
        response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "5"
    return response


def _json_error(exc: DomainError) -> JsonResponse:
    return JsonResponse({"detail": exc.message, "code": exc.code, **exc.extra}, status=exc.status_code)


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            self.check(request)
        except InputRefused as exc:
            return _json_error(exc)
        except SuspiciousOperation as exc:  # e.g. more query fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
            body, status, _ = suspicious_payload(exc)
            return JsonResponse(body, status=status)
        return self.get_response(request)

    @staticmethod
    def check(request) -> None:
        refuse_bad_text(request.path, "The address")
        for key, values in request.GET.lists():
            refuse_bad_text(key, "The query string")
            for value in values:
                refuse_bad_text(value, "The query string")
        # No header may hold a NUL (RFC 9110), and some reach the database (Idempotency-Key).
        for name, value in request.META.items():
            if name.startswith("HTTP_") and isinstance(value, str):
                refuse_bad_text(value, "A request header")

    def process_exception(self, request, exception):
        # DRF views and the Point System protocol translate their own errors; this only meets pages.
        return _json_error(exception) if isinstance(exception, DomainError) else None
