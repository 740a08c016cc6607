"""The Point System protocol's HTTP views (see /work/shared/contracts/point-system.md and
docs/points-bridge.md). Plain Django views: exact JSON shapes, no CSRF (these clients send no token),
no content negotiation, and a JSON body for every answer, errors included."""

import logging
import re
from datetime import UTC
from functools import wraps

from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.http import Http404, JsonResponse
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware
from django.views.decorators.csrf import csrf_exempt

from config.errors import DomainError
from config.exceptions import retry_after_header, suspicious_payload
from config.middleware import DATABASE_LOST, database_unavailable
from config.parsers import parse_json
from points_bridge import point_system
from points_bridge.auth import ProtocolAuthError, authorize
from points_bridge.point_system import MAX_ID, MAX_POINTS, TYPES, Change

logger = logging.getLogger(__name__)
MAX_DESCRIPTION = 500
MAX_IDEMPOTENCY_KEY = 200
BOARD_LIMIT_DEFAULT, BOARD_LIMIT_MAX = 100, 1000
# Short enough that int() never meets Python's 4300-digit guard; anything longer is out of range anyway.
INTEGER = re.compile(r"-?[0-9]{1,20}")


class BadRequest(DomainError):
    default_code = "validation_error"


def error(detail: str, status: int, *, code: str = "error", headers: dict | None = None, **extra) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code, **extra}, status=status, headers=headers)


def _domain_error(exc: DomainError) -> JsonResponse:
    # A cap "not awarded" is a 200 in engagement's own API; in this protocol it is a refusal.
    status = exc.status_code if exc.status_code >= 400 else 409
    headers = {"WWW-Authenticate": 'Bearer realm="point-system"'} if status == 401 else None
    if status == 429:
        headers = retry_after_header(exc.extra.get("retry_after"))
    # A ban's end date travels as in engagement's API; other errors keep the protocol's two keys.
    extra = {"until": exc.extra.get("until")} if exc.code == "member_banned" else {}
    return error(exc.message, status, code=exc.code, headers=headers, **extra)


def endpoint(*methods: str, write: bool = False):
    """Method check (JSON 405), authorization, and JSON for every error, including the unexpected."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, **kwargs):
            if request.method not in allowed:
                return error("Method not allowed.", 405, code="method_not_allowed",
                             headers={"Allow": ", ".join(sorted(allowed))})
            try:
                authorize(request, write=write)
                return view(request, **kwargs)
            except (ProtocolAuthError, DomainError) as exc:
                return _domain_error(exc)
            except Http404:
                return error("Not found.", 404, code="not_found")
            except DATABASE_LOST as exc:  # PostgreSQL restarting: nothing was written, the client may retry
                return database_unavailable(request, exc)
            except SuspiciousOperation as exc:  # Django's parsing limits, e.g. an oversized body
                body, status, _ = suspicious_payload(exc)
                return error(body["detail"], status, code=body["code"])
            except Exception:  # noqa: BLE001 - clients parse every body as JSON, even a crash's
                logger.exception("Point System protocol error on %s", request.path)
                return error("Internal server error.", 500, code="server_error")

        return wrapper

    return decorate


# --- input helpers ----------------------------------------------------------------------------------


def _int(value, name: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise BadRequest(f"{name} must be a whole number from {minimum} to {maximum}.")
    return value


def _query_int(request, name: str, default: int | None, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    if not INTEGER.fullmatch(raw):
        raise BadRequest(f"{name} must be a whole number.")
    return _int(int(raw), name, minimum=minimum, maximum=maximum)


def _body(request) -> dict:
    # parse_json refuses NUL, lone surrogates (400 invalid_characters) and absurd nesting (json_too_deep)
    # as DRF's parsers do for the rest of the API; PostgreSQL would refuse the first two with a 500.
    try:
        data = parse_json(request.body or b"null")
    except ValueError:  # UnicodeDecodeError included
        raise BadRequest("The request body must be JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def _description(data: dict, *, required: bool = False) -> str | None:
    value = data.get("description")
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION or (required and not value.strip()):
        raise BadRequest(f"description must be text of at most {MAX_DESCRIPTION} characters.")
    return value


def _timestamp(data: dict):
    value = data.get("timestamp")
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise BadRequest("timestamp must be an ISO-8601 date and time.")
    # The contract says UTC; a timestamp without an offset is read as UTC.
    return make_aware(parsed, UTC) if is_naive(parsed) else parsed


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise BadRequest(f"Idempotency-Key is at most {MAX_IDEMPOTENCY_KEY} characters.")
    return key or None


def _change(request, user_id: int, operation: str) -> Change:
    data = _body(request)
    activity_id = data.get("activity_id")
    change = Change(
        user_id=_int(user_id, "user_id"),
        operation=operation,
        points=_int(data.get("points"), "points", minimum=1, maximum=MAX_POINTS),
        description=_description(data),
        activity_id=None if activity_id is None else _int(activity_id, "activity_id"),
        timestamp=_timestamp(data),
        idempotency_key=_idempotency_key(request),
    )
    if operation == "activity" and change.activity_id is None:
        raise BadRequest("activity_id is required for type=activity.")
    return change


def _tx_response(entry) -> JsonResponse:
    return JsonResponse(point_system.tx(entry), status=200 if getattr(entry, "replayed", False) else 201)


# --- endpoints --------------------------------------------------------------------------------------


@endpoint("GET")
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - report, do not crash: this is what monitors poll
        logger.exception("health check: database unavailable")
        return JsonResponse({"status": "error", "database": "error", "detail": "Database unavailable."}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "service": "plaudit"})


@endpoint("GET")
def leaderboard(request):
    limit = _query_int(request, "limit", BOARD_LIMIT_DEFAULT, minimum=1, maximum=BOARD_LIMIT_MAX)
    return JsonResponse(point_system.global_board(limit=limit), safe=False)


@endpoint("GET")
def activity_leaderboard(request, activity_id: int):
    limit = _query_int(request, "limit", BOARD_LIMIT_DEFAULT, minimum=1, maximum=BOARD_LIMIT_MAX)
    if activity_id > MAX_ID:
        return JsonResponse([], safe=False)
    return JsonResponse(point_system.activity_board(activity_id=activity_id, limit=limit), safe=False)


@endpoint("GET")
def history(request, user_id: int):
    member = point_system.member_by_external_id(user_id)
    if member is None:
        return error("No such user.", 404, code="user_not_found")
    entries = point_system.history(member=member)
    return JsonResponse({"history": [point_system.tx(e) for e in entries]})


@endpoint("POST", write=True)
def add(request, user_id: int):
    kind = request.GET.get("type", "manual")
    if kind not in TYPES:
        raise BadRequest("type must be 'manual' or 'activity'.")
    return _tx_response(point_system.add_points(change=_change(request, user_id, kind)))


@endpoint("POST", write=True)
def remove(request, user_id: int):
    return _tx_response(point_system.remove_points(change=_change(request, user_id, "remove")))


@endpoint("GET")
def transactions(request):
    kind = request.GET.get("transaction_type") or None
    if kind is not None and kind not in TYPES:
        raise BadRequest("transaction_type must be 'manual' or 'activity'.")
    entries = point_system.transactions(
        skip=_query_int(request, "skip", 0),
        # The contract caps limit at 100; a larger value is clamped rather than refused.
        limit=min(_query_int(request, "limit", 50, minimum=1), 100),
        user_id=_query_int(request, "user_id", None),
        activity_id=_query_int(request, "activity_id", None),
        transaction_type=kind,
    )
    return JsonResponse([point_system.tx(e) for e in entries], safe=False)


@csrf_exempt
def not_found(request, **kwargs):
    """Every other path under the protocol's prefixes (wrong slashes included): a JSON 404, never a
    redirect or Django's HTML page."""
    return error("Not found. Point System paths are exact: check the trailing slash.", 404, code="not_found")
