"""Token authentication with the hand-written lookup (config/authentication.py) answers as DRF's does."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authentication import TokenAuthentication as DRFTokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from config.authentication import TokenAuthentication

pytestmark = pytest.mark.django_db


def both(key):
    """(outcome of ours, outcome of DRF's): (user pk, token key) or the refusal's text."""
    outcomes = []
    for auth in (TokenAuthentication(), DRFTokenAuthentication()):
        try:
            user, token = auth.authenticate_credentials(key)
            outcomes.append((user.pk, token.key, token.user_id, user.username, user.is_staff, user.date_joined))
        except AuthenticationFailed as exc:
            outcomes.append(str(exc.detail))
    return outcomes


def test_the_same_user_token_and_refusals_as_drf(make_user):
    active = Token.objects.create(user=make_user("ann", is_staff=True))
    inactive = Token.objects.create(user=make_user("ben", is_active=False))
    ours, drf = both(active.key)
    assert ours == drf and ours[0] == active.user_id
    assert both(inactive.key) == ["User inactive or deleted."] * 2
    assert both("0" * 40) == ["Invalid token."] * 2
    assert both("") == ["Invalid token."] * 2


def test_one_statement_and_the_api_answers(make_user, client):
    token = Token.objects.create(user=make_user("ann"))
    with CaptureQueriesContext(connection) as queries:
        TokenAuthentication().authenticate_credentials(token.key)
    assert len(queries.captured_queries) == 1
    ok = client.get("/api/v1/engagement/profile", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert ok.status_code == 200
    refused = client.get("/api/v1/engagement/profile", HTTP_AUTHORIZATION="Token nope")
    assert refused.status_code == 401 and refused.json()["detail"] == "Invalid token."


def test_the_schema_still_documents_token_auth():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "tokenAuth" in schema["components"]["securitySchemes"]
