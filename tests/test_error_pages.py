"""Under /api/ (and on the Point System's root paths) 404, 405 and 500 answer JSON with a code; the
site's pages keep HTML. ``OPTIONS /api/docs/`` used to be a 500 (issue 10)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def assert_json(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code


@pytest.mark.parametrize("url", ["/api/", "/api/nope", "/api/v1/engagement/nope", "/api/v1/points/balance/x/y",
                                 "/points/nope", "/leaderboard"])
def test_an_unknown_path_under_the_api_is_a_json_404(url):
    assert_json(Client().get(url), 404, "not_found")


def test_an_unknown_page_is_still_html():
    response = Client().get("/nope/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
@pytest.mark.parametrize("url", ["/api/docs/", "/api/schema/"])
def test_wrong_methods_on_the_docs_and_schema_are_json_405s(method, url):
    assert_json(getattr(Client(), method)(url), 405, "method_not_allowed")


@pytest.mark.parametrize("url", ["/api/docs/", "/api/schema/"])
def test_options_on_the_docs_and_schema_is_json(url):
    response = Client().options(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "name" in response.json()


def test_the_docs_and_schema_still_render():
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
    schema = Client().get("/api/schema/")
    assert schema.status_code == 200 and schema.content.startswith(b"openapi:")


def test_a_crash_under_the_api_is_a_json_500(monkeypatch, member_api):
    def crash(user):
        raise RuntimeError("boom")

    monkeypatch.setattr("engagement.api.member_for_user", crash)
    member_api.raise_request_exception = False
    response = member_api.get("/api/v1/engagement/profile")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error.", "code": "server_error"}


def test_a_crash_on_a_page_is_still_html(monkeypatch):
    def crash(request):
        raise RuntimeError("boom")

    monkeypatch.setattr("points_bridge.views.board_options", crash)
    response = Client(raise_request_exception=False).get("/board/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


def test_a_refused_host_under_the_api_is_a_json_400():
    response = Client(HTTP_HOST="evil.example").get("/api/v1/engagement/leaderboard")
    assert_json(response, 400, "bad_request")


def test_a_refused_host_on_a_page_is_still_html():
    response = Client(HTTP_HOST="evil.example").get("/board/")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
