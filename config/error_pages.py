"""Django's error handlers (config/urls.py): JSON under /api/ and on the Point System's root paths,
where every client parses bodies as JSON; the site's HTML (404.html/500.html if a template exists)
everywhere else. DRF views answer their own errors; these cover what happens outside them: an unknown
path, an exception DRF does not know, a refusal raised before any view."""

import re
import sys

from django.http import JsonResponse
from django.views import defaults

JSON_PATHS = re.compile(r"^/(?:api/|(?:health|leaderboard|points)(?:/|$))")


def wants_json(request) -> bool:
    """The API, the Point System protocol at the root, and any client that asks for JSON."""
    return bool(JSON_PATHS.match(request.path)) or "application/json" in request.headers.get("Accept", "")


def bad_request(request, exception):
    if wants_json(request):
        return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if wants_json(request):
        return JsonResponse({"detail": "Permission denied.", "code": "permission_denied"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if wants_json(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    from config.middleware import DATABASE_LOST, database_unavailable

    exc = sys.exc_info()[1]  # Django calls this handler inside its except block
    if isinstance(exc, DATABASE_LOST):  # lost outside a view, e.g. while saving the session
        return database_unavailable(request, exc)
    if wants_json(request):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    return defaults.server_error(request)
