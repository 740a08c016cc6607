"""One place that turns every API error into JSON with a stable machine ``code``.

Body shape: ``{"detail": "human text", "code": "machine_code"}``, plus ``"errors"`` with per-field
messages for validation failures. Views whose contract needs another shape (the eventyay checkout
endpoints, the Point System protocol) override ``get_exception_handler`` and reuse ``error_payload``.
"""

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.errors import DomainError

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "validation_error",
}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(detail, list | tuple) and detail:
        return _first_message(detail[0])
    return str(detail)


# A 429 whose limiter did not say when to come back (DRF's Throttled may carry no wait) still gets a
# Retry-After: clients that honour it back off instead of hammering.
DEFAULT_RETRY_AFTER = 60


def retry_after_header(seconds) -> dict:
    """The Retry-After header for a 429: whole seconds, at least 1 (RFC 9110 delay-seconds)."""
    try:
        value = max(1, math.ceil(float(seconds)))
    except (TypeError, ValueError, OverflowError):
        value = DEFAULT_RETRY_AFTER
    return {"Retry-After": str(value)}


def error_payload(exc: Exception) -> tuple[dict, int, dict]:
    """Return (body, status, headers) for any exception we know how to describe, else raise it."""
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        headers = retry_after_header(exc.extra.get("retry_after")) if exc.status_code == 429 else {}
        return body, exc.status_code, headers
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, SuspiciousOperation):
        return suspicious_payload(exc)
    if not isinstance(exc, exceptions.APIException):
        raise exc
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    headers = retry_after_header(getattr(exc, "wait", None)) if exc.status_code == 429 else {}
    if isinstance(exc, exceptions.ValidationError):
        body = {"detail": _first_message(exc.detail), "code": code, "errors": exc.detail}
    else:
        body = {"detail": str(exc.detail), "code": code}
    return body, exc.status_code, headers


_SUSPICIOUS_DETAIL = {TooManyFieldsSent: "The request has too many fields.",
                      TooManyFilesSent: "The request has too many files."}


def suspicious_payload(exc: SuspiciousOperation) -> tuple[dict, int, dict]:
    """Django's request-parsing limits (DATA_UPLOAD_MAX_MEMORY_SIZE, ..._NUMBER_FIELDS/FILES) and other
    suspicious input, raised while DRF reads ``request.data``: Django itself would answer a bare HTML 400.
    Logged to ``django.security.<name>`` as Django does, without the traceback."""
    logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s", exc)
    if isinstance(exc, RequestDataTooBig):
        return {"detail": "The request body is too large.", "code": "request_too_large"}, 413, {}
    detail = _SUSPICIOUS_DETAIL.get(type(exc), "The request was refused as malformed.")
    return {"detail": detail, "code": "bad_request"}, 400, {}


def api_exception_handler(exc, context):
    try:
        body, status_code, headers = error_payload(exc)
    except Exception:  # noqa: BLE001 - unknown errors fall through to DRF (and then a 500 we log)
        return exception_handler(exc, context)
    response = Response(body, status=status_code, headers=headers)
    request = context.get("request")
    if status_code == status.HTTP_401_UNAUTHORIZED and request is not None and request.authenticators:
        response["WWW-Authenticate"] = request.authenticators[0].authenticate_header(request) or "Token"
    return response
