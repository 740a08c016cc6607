"""No input makes a 500 (issue 10): NUL and lone surrogates, absurdly deep JSON and absurd page sizes
are refused with a JSON 400 and a stable code, and nothing is written.

PostgreSQL is where these bit (it refuses NUL in text and jsonb, and the driver cannot encode a lone
surrogate); SQLite stores both. Every test here runs on both and expects the same 400.
"""

import json
import re

import pytest
from django.test import Client

from checkin.models import Event, Organizer
from engagement.models import LedgerEntry, Member
from rewards.models import Reward

pytestmark = pytest.mark.django_db

NUL = "pasted\u0000text"
SURROGATE = "half \ud800 a pair"
BAD_STRINGS = [pytest.param(NUL, id="nul"), pytest.param(SURROGATE, id="surrogate")]
DEEP = "[" * 100_000 + "]" * 100_000
KEY = "test-point-system-key"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2 at full strength costs seconds per user on a busy machine; nothing here tests hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ps(settings):
    """A Point System plugin: no cookies, no CSRF token, the shared key."""
    settings.POINT_SYSTEM_API_KEY = KEY
    settings.POINT_SYSTEM_TRUSTED_CLIENTS = []
    return Client(HTTP_AUTHORIZATION=f"Bearer {KEY}")


@pytest.fixture
def target(make_user):
    return Member.objects.get(user=make_user("target"))


def post_json(client, url: str, data) -> object:
    # json.dumps escapes NUL as \u0000 and a lone surrogate as \ud800, exactly what real clients send.
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(url, body, content_type="application/json")


# --- NUL and lone surrogates in JSON bodies ------------------------------------------------------------


@pytest.mark.parametrize("text", BAD_STRINGS)
def test_the_point_system_refuses_a_bad_description_and_writes_nothing(ps, text):
    response = post_json(ps, "/points/7/add?type=manual", {"points": 5, "description": text})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert set(response.json()) == {"detail", "code"}  # the protocol's shape, plus its code
    assert not LedgerEntry.objects.exists() and not Member.objects.filter(external_id=7).exists()


@pytest.mark.parametrize("text", BAD_STRINGS)
def test_event_meta_with_bad_text_is_refused(admin_api, target, text):
    response = post_json(admin_api, "/api/v1/engagement/events",
                         {"user_id": target.user_id, "reason": "comment_create", "meta": {"note": text}})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("text", BAD_STRINGS)
def test_a_bad_key_deep_inside_admin_adjust_meta_is_refused(admin_api, target, text):
    meta = {"why": [{"nested": {text: 1}}]}
    response = post_json(admin_api, "/api/v1/admin/engagement/adjust",
                         {"user_id": target.user_id, "delta": 5, "meta": meta})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("text", BAD_STRINGS)
def test_reward_metadata_with_bad_text_is_refused(admin_api, text):
    response = post_json(admin_api, "/api/v1/admin/engagement/rewards",
                         {"name": "Mug", "type": "custom", "cost_points": 10, "metadata": {"note": text}})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert not Reward.objects.exists()


def test_a_nul_in_a_form_body_is_refused_like_in_json(admin_api, target):
    response = admin_api.post("/api/v1/admin/engagement/adjust",
                              f"user_id={target.user_id}&delta=5&note=a%00b",
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert not LedgerEntry.objects.exists()


def test_clean_unicode_still_passes(admin_api, target):
    response = post_json(admin_api, "/api/v1/admin/engagement/adjust",
                         {"user_id": target.user_id, "delta": 5, "meta": {"note": "Příliš 🎉 žluťoučký"}})
    assert response.status_code == 201
    assert LedgerEntry.objects.get().meta == {"note": "Příliš 🎉 žluťoučký"}


# --- NUL in the path and the query string ------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/board/?activity=a%00b",
    "/api/v1/engagement/transactions?reason=a%00b",
    "/api/v1/points/balance/a%00b",
    "/points/transactions?transaction_type=%00",
])
def test_a_nul_in_the_path_or_query_is_a_json_400(member_api, url):
    response = member_api.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid_characters"


@pytest.mark.parametrize("url", ["/api/v1/admin/engagement/adjust", "/points/7/add"])
def test_a_nul_in_the_idempotency_key_header_is_a_json_400(admin_api, ps, target, url):
    client = admin_api if url.startswith("/api/") else ps
    response = client.post(url, json.dumps({"user_id": target.user_id, "delta": 5, "points": 5}),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY="key\x00one")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert not LedgerEntry.objects.exists()


# --- JSON nested 100,000 levels deep ----------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/api/v1/auth/token",
    "/api/v1/engagement/events",
    "/api/v1/admin/engagement/adjust",
    "/api/v1/organizers/org/checkinrpc/redeem/",
    "/api/v1/points/add",
])
def test_absurdly_deep_json_is_a_400_on_every_json_endpoint(admin_api, url):
    response = post_json(admin_api, url, DEEP)
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


def test_deep_json_inside_an_object_is_refused_too(api):
    body = '{"username": "a", "password": ' + "[" * 5000 + "]" * 5000 + "}"
    response = post_json(api, "/api/v1/auth/token", body)
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"


def test_the_point_system_refuses_deep_json_in_its_own_shape(ps):
    response = post_json(ps, "/points/7/add", DEEP)
    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
    assert not LedgerEntry.objects.exists()


# --- Pagination -----------------------------------------------------------------------------------------


@pytest.fixture
def events_url(admin_user):
    organizer = Organizer.objects.create(name="Org", slug="org")
    Event.objects.create(organizer=organizer, name="Conf", slug="conf")
    return "/api/v1/organizers/org/events/"


@pytest.mark.parametrize("query", ["limit=100000000000000000000", "offset=100000000000000000000",
                                   "limit=1001", "limit=abc", "offset=-1"])
def test_absurd_page_parameters_are_a_json_400(admin_api, events_url, query):
    for url in (events_url, "/api/v1/points/transactions", "/api/v1/organizers/org/events/conf/scans/"):
        response = admin_api.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert response.json()["code"] == "invalid_pagination"


def test_sensible_page_parameters_still_page(admin_api, events_url):
    body = admin_api.get(f"{events_url}?limit=1000&offset=0").json()
    assert body["count"] == 1 and len(body["results"]) == 1
    assert admin_api.get(f"{events_url}?limit=1&offset=5").json()["results"] == []


# --- Every JSON operation in the OpenAPI schema --------------------------------------------------------


def json_operations(client) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/?format=json").json()
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                # Path parameters get values that exist or at least parse; a 404 before parsing is fine.
                url = path.replace("{org}", "org").replace("{event}", "conf")
                operations.append((method, re.sub(r"\{[^}]+\}", "1", url)))
    return operations


@pytest.mark.parametrize("body,code", [(DEEP, "json_too_deep"), (json.dumps({"x": [NUL]}), "invalid_characters")])
def test_every_json_operation_refuses_deep_or_bad_bodies(admin_api, events_url, body, code):
    operations = json_operations(admin_api)
    refused = 0
    for method, url in operations:
        response = getattr(admin_api, method)(url, body, content_type="application/json")
        assert response.status_code < 500, (method, url)
        if response.status_code == 400:
            assert response.json()["code"] == code, (method, url, response.json())
            refused += 1
    # Nearly all of them read the body; some answer 404 for the made-up ids first (a reward, a check-in
    # list of the pretix endpoints), which is as safe.
    assert len(operations) >= 15 and refused >= 0.7 * len(operations)
