"""Refuse, before any view runs, a path, query string or header with text the database cannot store.

A NUL in ``/board/?activity=a%00b`` or in a ``<str:...>`` path segment used to reach a PostgreSQL
query and come back as a 500. Body text is checked by config/parsers.py; this is the same check for
the URL, for every page and endpoint at once. The answer is JSON with a stable code (the issue asks
for JSON everywhere, and the Point System's ``{"detail"}`` shape is a subset of it).

It also answers a DomainError that escapes a plain Django view (a page refusing a malformed query
parameter) with the same JSON the API uses, rather than a 500.
"""

from django.core.exceptions import SuspiciousOperation
from django.http import JsonResponse

from config.errors import DomainError
from config.exceptions import suspicious_payload
from config.parsers import InputRefused, refuse_bad_text


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
