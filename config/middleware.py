"""Middleware of the shared ground."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from config.logs import warn_now_and_then

log = logging.getLogger("plaudit.database")
# The JSON answers: the API and the Point System protocol served at the site's root.
JSON_PREFIXES = ("/api/", "/health", "/leaderboard/", "/points/")


def wants_json(request) -> bool:
    return request.path.startswith(JSON_PREFIXES) or "application/json" in request.headers.get("Accept", "")


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
