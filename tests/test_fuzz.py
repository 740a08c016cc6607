"""No input makes a 5xx: schemathesis drives every operation of the OpenAPI schema, and a hand-written
description of the Point System's root endpoints, in-process through the WSGI app (issue 10).

Bounded for CI: a few derandomized examples per operation (schemathesis's examples, coverage and
fuzzing phases), so the whole module stays within about two minutes on two busy cores. ``make fuzz``
is the long, random run against a live demo.

schemathesis never generates lone surrogates (it excludes them even with ``codec=None``) and NUL
only by chance, yet these are exactly what PostgreSQL refuses. So every generated request is also
sent "poisoned": each string in its JSON body with a NUL and with a lone surrogate, each string in its
path, query and form body with a NUL (a surrogate cannot be percent-encoded). PostgreSQL only: that
is where NUL and surrogates bite (CI runs the suite on it first); SQLite stores them.
"""

import json
from contextlib import contextmanager
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from config.wsgi import application
from points_bridge.point_system import TYPES

if connection.vendor != "postgresql":
    # Skipped before the schema is loaded, so SQLite runs pay nothing for collecting this module.
    pytest.skip("the fuzz run targets PostgreSQL, where NUL and surrogates bite", allow_module_level=True)

pytestmark = pytest.mark.django_db

EXAMPLES = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))
NUL, SURROGATE = "\x00", "\ud800"
JSON_VALUES = (dict, list, str, int, float, bool)  # not raw bytes, not schemathesis's "no body"
PS_KEY = "fuzz-point-system-key"


def poison(value, bad: str):
    """A copy of a generated value with ``bad`` added to every string, keys included."""
    if isinstance(value, str):
        return value + bad
    if isinstance(value, dict):
        return {poison(k, bad): poison(v, bad) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, bad) for v in value]
    return value


def poisoned_requests(case):
    """(path, body, content type) of ``case`` with NUL everywhere, then with lone surrogates in a JSON body.

    Sent with Django's test client: schemathesis's transport encodes bodies as UTF-8, which a lone
    surrogate cannot be, while ``json.dumps`` escapes it as ``\\ud800`` exactly as real clients do."""
    media = case.media_type or ""
    for bad in (NUL, SURROGATE):
        params = case.path_parameters or {}
        if bad == NUL:
            params = {name: poison(str(value), bad) for name, value in params.items()}
        path = case.path.format(**{name: quote(str(value), safe="") for name, value in params.items()})
        query = urlencode(poison(case.query, bad) if bad == NUL else case.query or {}, doseq=True)
        body, content_type = b"", "application/octet-stream"
        if "json" in media and isinstance(case.body, JSON_VALUES):
            body, content_type = json.dumps(poison(case.body, bad)), media
        elif "urlencoded" in media and isinstance(case.body, dict) and bad == NUL:
            body, content_type = urlencode(poison(case.body, bad), doseq=True), media
        elif bad == SURROGATE:
            continue  # nowhere else to put a surrogate
        yield f"{path}?{query}" if query else path, body, content_type


def _report(what: str, case, response) -> str:
    return (f"{case.method} {what} path={case.path_parameters!r} query={case.query!r} body={case.body!r} "
            f"-> {response.status_code} {response.content[:300]!r}")


@contextmanager
def connection_kept():
    """schemathesis calls the WSGI handler directly, which closes "old" connections around every
    request, the test's own open transaction included. Django's test Client unhooks the same receivers
    (and hooks them back after each of its requests, so we unhook them for every call)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def assert_no_5xx(case, auth: str) -> None:
    with connection_kept():
        response = case.call(headers={"Authorization": auth})
    assert response.status_code < 500, _report(case.formatted_path, case, response)
    client = Client(HTTP_AUTHORIZATION=auth, raise_request_exception=False)  # a 500 is reported below
    for url, body, content_type in poisoned_requests(case):
        response = client.generic(case.method, url, body, content_type=content_type)
        assert response.status_code < 500, _report(url, case, response)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # A fresh admin per operation; PBKDF2 would cost seconds each on a busy machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_token(admin_user):
    return Token.objects.create(user=admin_user).key


# Loaded at collection (schemathesis makes one test per operation from it). schemathesis's lazy
# from_fixture() loader would defer this, but it breaks on pytest 9 (it sets Function._nodeid).
api = schemathesis.openapi.from_wsgi("/api/schema/", application)
api.config.phases.coverage.enabled = False


@api.parametrize()
@EXAMPLES
def test_no_api_operation_answers_5xx(case, admin_token):
    assert_no_5xx(case, f"Token {admin_token}")


# --- the Point System protocol (plain Django views at the site's root, not in /api/schema/) -------------

ID = {"type": "integer", "format": "int64"}
TEXT = {"type": "string", "nullable": True}


def _op(parameters=(), body=None, method="get"):
    operation = {"parameters": list(parameters), "responses": {"200": {"description": "JSON"}}}
    if body is not None:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {method: operation}


def _param(name: str, where: str, schema: dict, *, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


CHANGE = {"type": "object", "properties": {
    "points": {"type": "integer"}, "description": TEXT, "activity_id": {**ID, "nullable": True},
    "timestamp": {"type": "string", "format": "date-time"},
}}
POINT_SYSTEM = {
    "openapi": "3.0.3",
    "info": {"title": "Point System protocol (docs/points-bridge.md)", "version": "1"},
    "paths": {
        "/health": _op(),
        "/leaderboard/": _op([_param("limit", "query", {"type": "integer"})]),
        "/leaderboard/{activity_id}/": _op([_param("activity_id", "path", ID)]),
        "/points/{user_id}/history": _op([_param("user_id", "path", ID)]),
        "/points/{user_id}/add": _op(
            [_param("user_id", "path", ID), _param("type", "query", {"type": "string", "enum": list(TYPES)})],
            CHANGE, "post"),
        "/points/{user_id}/remove": _op([_param("user_id", "path", ID)], CHANGE, "post"),
        "/points/transactions": _op([
            _param("skip", "query", {"type": "integer"}), _param("limit", "query", {"type": "integer"}),
            _param("user_id", "query", ID), _param("activity_id", "query", ID),
            _param("transaction_type", "query", {"type": "string"}),
        ]),
    },
}


point_system = schemathesis.openapi.from_dict(POINT_SYSTEM)
point_system.app = application
point_system.config.phases.coverage.enabled = False


@pytest.fixture
def ps_key(settings):
    settings.POINT_SYSTEM_API_KEY = PS_KEY
    settings.POINT_SYSTEM_TRUSTED_CLIENTS = []
    settings.POINT_SYSTEM_FORWARD_URL = ""


@point_system.parametrize()
@EXAMPLES
def test_no_point_system_request_answers_5xx(case, ps_key):
    assert_no_5xx(case, f"Bearer {PS_KEY}")
