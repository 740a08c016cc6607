"""Requests that break Django's parsing limits get the API's JSON error, not Django's HTML 400 page."""

import json

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/engagement/events", "/api/v1/organizers/demo/checkinrpc/redeem/", "/api/v1/points/add"]


def many_fields(count: int) -> str:
    return "&".join(f"f{i}=1" for i in range(count))


@pytest.mark.parametrize("url", ENDPOINTS)
def test_too_many_form_fields_is_a_json_400_with_a_code(admin_api, url):
    response = admin_api.post(url, many_fields(1001), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "bad_request"
    assert response.json()["detail"] == "The request has too many fields."


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_body_over_the_size_limit_is_a_json_413(admin_api, url):
    response = admin_api.post(url, json.dumps({"meta": "x" * 4096}), content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large.", "code": "request_too_large"}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024, POINT_SYSTEM_TRUSTED_CLIENTS=["127.0.0.1"])
def test_the_point_system_protocol_answers_an_oversized_body_with_its_json_413(client):
    response = client.post("/points/1/add", json.dumps({"points": 1, "description": "x" * 4096}),
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


@pytest.mark.parametrize("url", ["/api/v1/engagement/leaderboard", "/points/transactions", "/board/"])
def test_too_many_query_fields_is_a_json_400_with_a_code(url):
    response = Client().get(f"{url}?{many_fields(1001)}")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request has too many fields.", "code": "bad_request"}
