"""The Point System contract (shared/contracts/point-system.md): every path, status, field and type."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from engagement import services
from engagement.models import Activity, LedgerEntry, Member
from points_bridge import point_system
from points_bridge.point_system import Change

pytestmark = pytest.mark.django_db

TX_FIELDS = {"id", "user_id", "activity_id", "issued_by_id", "points", "transaction_type", "description", "created_at"}


def post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def assert_tx(tx):
    assert set(tx) == TX_FIELDS
    assert isinstance(tx["id"], int) and isinstance(tx["user_id"], int) and isinstance(tx["points"], int)
    assert tx["activity_id"] is None or isinstance(tx["activity_id"], int)
    assert tx["issued_by_id"] is None or isinstance(tx["issued_by_id"], int)
    assert tx["transaction_type"] in ("manual", "activity")
    assert tx["description"] is None or isinstance(tx["description"], str)
    assert datetime.fromisoformat(tx["created_at"]).tzinfo is not None


def test_health_is_a_json_object(anon):
    response = anon.get("/health")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_add_manual_creates_the_participant_and_returns_a_tx(ps):
    body = {"points": 25, "description": "Helped", "activity_id": None}
    response = post(ps, "/points/1500000001/add?type=manual", body)
    assert response.status_code == 201
    tx = response.json()
    assert_tx(tx)
    assert tx["user_id"] == 1500000001 and tx["points"] == 25 and tx["transaction_type"] == "manual"
    assert tx["description"] == "Helped" and tx["activity_id"] is None
    assert Member.objects.get(external_id=1500000001).points == 25


def test_add_activity_maps_the_activity_id_and_needs_one(ps, activity):
    body = {"points": 10, "description": None, "activity_id": 102, "timestamp": "2026-05-01T10:00:00Z"}
    tx = post(ps, "/points/7/add?type=activity", body).json()
    assert_tx(tx)
    assert tx["activity_id"] == 102 and tx["transaction_type"] == "activity" and tx["description"] is None
    assert LedgerEntry.objects.get(pk=tx["id"]).activity == activity
    missing = post(ps, "/points/7/add?type=activity", {"points": 10, "description": None, "activity_id": None})
    assert missing.status_code == 400 and "activity_id" in missing.json()["detail"]


def test_an_unknown_activity_id_is_created_on_first_use(ps):
    tx = post(ps, "/points/7/add?type=activity", {"points": 3, "activity_id": 999}).json()
    assert tx["activity_id"] == 999
    assert Activity.objects.filter(external_id=999).count() == 1


def test_remove_returns_a_negative_tx_and_409_when_short(ps):
    post(ps, "/points/7/add?type=manual", {"points": 30, "description": "seed"})
    response = post(ps, "/points/7/remove", {"points": 12, "description": "Coffee", "activity_id": None})
    assert response.status_code == 201
    tx = response.json()
    assert_tx(tx)
    assert tx["points"] == -12 and tx["transaction_type"] == "manual" and tx["description"] == "Coffee"
    short = post(ps, "/points/7/remove", {"points": 19, "description": "Too much"})
    assert short.status_code == 409 and isinstance(short.json()["detail"], str)
    assert Member.objects.get(external_id=7).points == 18


def test_remove_from_an_unknown_user_is_409_and_creates_nobody(ps):
    response = post(ps, "/points/424242/remove", {"points": 1, "description": "x"})
    assert response.status_code == 409
    assert not Member.objects.filter(external_id=424242).exists()


@pytest.mark.parametrize("points", [0, -5, "5", 2.5, None, True, 10**12])
def test_remove_and_add_refuse_bad_points(ps, points):
    for path in ("/points/7/remove", "/points/7/add?type=manual"):
        response = post(ps, path, {"points": points, "description": "x"})
        assert response.status_code == 400 and "points" in response.json()["detail"]
    assert LedgerEntry.objects.count() == 0


def test_history_is_newest_first_with_signed_points(ps):
    post(ps, "/points/7/add?type=manual", {"points": 30, "description": "first"})
    post(ps, "/points/7/remove", {"points": 5, "description": "second"})
    response = ps.get("/points/7/history")
    assert response.status_code == 200
    history = response.json()["history"]
    for tx in history:
        assert_tx(tx)
    assert [t["points"] for t in history] == [-5, 30]
    assert max(0, sum(t["points"] for t in history)) == Member.objects.get(external_id=7).points


def test_history_of_an_unknown_user_is_a_json_404(anon):
    response = anon.get("/points/31337/history")
    assert response.status_code == 404 and "detail" in response.json()


def test_leaderboard_is_a_bare_sorted_list(ps):
    for user_id, points in ((1, 10), (2, 40), (3, 25)):
        post(ps, f"/points/{user_id}/add?type=manual", {"points": points})
    board = ps.get("/leaderboard/").json()
    assert board == [{"user_id": 2, "points": 40}, {"user_id": 3, "points": 25}, {"user_id": 1, "points": 10}]


def test_activity_leaderboard_counts_only_that_activity(ps, activity):
    post(ps, "/points/1/add?type=activity", {"points": 5, "activity_id": 102})
    post(ps, "/points/2/add?type=activity", {"points": 9, "activity_id": 102})
    post(ps, "/points/2/add?type=manual", {"points": 100})
    post(ps, "/points/3/add?type=activity", {"points": 50, "activity_id": 103})
    board = ps.get("/leaderboard/102/").json()
    assert board == [{"user_id": 2, "points": 9}, {"user_id": 1, "points": 5}]
    assert ps.get("/leaderboard/555/").json() == []


def test_transactions_pages_and_filters(ps, activity):
    for i in range(5):
        post(ps, f"/points/{i + 1}/add?type=manual", {"points": i + 1})
    post(ps, "/points/9/add?type=activity", {"points": 7, "activity_id": 102})
    all_tx = ps.get("/points/transactions").json()
    assert isinstance(all_tx, list) and len(all_tx) == 6
    for tx in all_tx:
        assert_tx(tx)
    assert [t["id"] for t in all_tx] == sorted((t["id"] for t in all_tx), reverse=True)
    page = ps.get("/points/transactions?skip=1&limit=2").json()
    assert [t["id"] for t in page] == [t["id"] for t in all_tx[1:3]]
    assert [t["user_id"] for t in ps.get("/points/transactions?user_id=3").json()] == [3]
    assert [t["points"] for t in ps.get("/points/transactions?activity_id=102").json()] == [7]
    assert len(ps.get("/points/transactions?transaction_type=activity").json()) == 1
    assert len(ps.get("/points/transactions?transaction_type=manual").json()) == 5


def test_transactions_limit_is_capped_at_100(ps):
    member = services.participant_for_external_id(5)
    for i in range(105):
        services.award(member=member, reason="x", points=1, idempotency_key=f"k{i}")
    assert len(ps.get("/points/transactions?limit=500").json()) == 100
    assert len(ps.get("/points/transactions").json()) == 50


@pytest.mark.parametrize(
    "query",
    ["skip=-1", "limit=0", "limit=abc", "user_id=x", "transaction_type=bogus", "skip=--1", "user_id=" + "9" * 5000,
     "activity_id=1.5", "limit=%00"],
)
def test_transactions_bad_query_is_a_json_400(anon, query):
    response = anon.get(f"/points/transactions?{query}")
    assert response.status_code == 400 and "detail" in response.json()


@pytest.mark.parametrize(
    "path",
    ["/health/", "/leaderboard", "/leaderboard/5", "/points/5/history/", "/points/5/add/", "/points/5/remove/",
     "/points/transactions/", "/points/abc/history", "/points", "/points/", "/leaderboard/abc/"],
)
def test_wrong_slashes_are_json_404s_never_redirects(anon, path):
    for method in (anon.get, anon.post):
        response = method(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/health"), ("post", "/leaderboard/"), ("delete", "/points/5/history"), ("get", "/points/5/add"),
     ("get", "/points/5/remove"), ("put", "/points/transactions")],
)
def test_wrong_methods_are_json_405s(ps, method, path):
    response = getattr(ps, method)(path)
    assert response.status_code == 405 and "detail" in response.json() and response["Allow"]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "", "\xff"])
def test_bad_bodies_are_json_400s(ps, body):
    response = ps.post("/points/7/add?type=manual", data=body, content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()


def test_bad_type_is_a_json_400(ps):
    assert post(ps, "/points/7/add?type=bonus", {"points": 1}).status_code == 400


def test_huge_ids_never_crash(ps):
    huge = 2**64
    assert post(ps, f"/points/{huge}/add?type=manual", {"points": 1}).status_code == 400
    assert ps.get(f"/points/{huge}/history").status_code == 404
    assert ps.get(f"/leaderboard/{huge}/").json() == []
    assert post(ps, "/points/1/add?type=activity", {"points": 1, "activity_id": huge}).status_code == 400
    assert ps.get(f"/points/transactions?user_id={huge}").status_code == 400


def test_an_unexpected_error_is_a_json_500(ps, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(point_system, "add_points", explode)
    response = post(ps, "/points/7/add?type=manual", {"points": 1})
    assert response.status_code == 500 and response.json()["detail"]


# --- de-duplication of blind retries --------------------------------------------------------------------


def test_a_blind_retry_returns_the_original_tx_and_records_nothing(ps):
    body = {"points": 10, "description": "Quiz", "activity_id": 102, "timestamp": "2026-05-01T10:00:00Z"}
    first = post(ps, "/points/7/add?type=activity", body)
    retry = post(ps, "/points/7/add?type=activity", body)
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json() == first.json()
    assert LedgerEntry.objects.count() == 1 and Member.objects.get(external_id=7).points == 10


OTHER_VALUES = {"points": 11, "description": "Other", "activity_id": 103, "timestamp": "2026-05-01T10:00:01Z"}


@pytest.mark.parametrize("field", ["points", "description", "activity_id", "timestamp", "type", "user"])
def test_a_different_request_is_not_a_duplicate(ps, field):
    body = {"points": 10, "description": "Quiz", "activity_id": 102, "timestamp": "2026-05-01T10:00:00Z"}
    post(ps, "/points/7/add?type=activity", body)
    path, changed = "/points/7/add?type=activity", dict(body)
    if field in OTHER_VALUES:
        changed[field] = OTHER_VALUES[field]
    elif field == "type":
        path = "/points/7/add?type=manual"
    else:
        path = "/points/8/add?type=activity"
    assert post(ps, path, changed).status_code == 201
    assert LedgerEntry.objects.count() == 2


def test_a_removal_retry_is_deduplicated_too(ps):
    post(ps, "/points/7/add?type=manual", {"points": 30})
    first = post(ps, "/points/7/remove", {"points": 10, "description": "Coffee"})
    retry = post(ps, "/points/7/remove", {"points": 10, "description": "Coffee"})
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    assert Member.objects.get(external_id=7).points == 20


def test_dedup_holds_across_a_bucket_edge_and_ends_after_the_window(ps_settings):
    ps_settings.POINT_SYSTEM_DEDUP_WINDOW = timedelta(minutes=10)
    change = Change(user_id=7, operation="manual", points=5, description="x")
    edge = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)  # a multiple of 10 minutes: a bucket boundary
    first = point_system.add_points(change=change, at=edge - timedelta(seconds=30))
    across = point_system.add_points(change=change, at=edge + timedelta(seconds=30))
    assert across.pk == first.pk and across.replayed
    inside_window = point_system.add_points(change=change, at=edge + timedelta(minutes=9, seconds=29))
    assert inside_window.pk == first.pk
    later = point_system.add_points(change=change, at=edge + timedelta(minutes=9, seconds=31))
    assert later.pk != first.pk and not later.replayed
    assert Member.objects.get(external_id=7).points == 10


def test_a_zero_window_turns_dedup_off(ps, ps_settings):
    ps_settings.POINT_SYSTEM_DEDUP_WINDOW = timedelta(0)
    post(ps, "/points/7/add?type=manual", {"points": 5})
    post(ps, "/points/7/add?type=manual", {"points": 5})
    assert Member.objects.get(external_id=7).points == 10


def test_idempotency_key_dedups_by_key_and_refuses_reuse_for_another_request(ps):
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-1"}
    first = ps.post("/points/7/add?type=manual", json.dumps({"points": 5}), "application/json", **headers)
    again = ps.post("/points/7/add?type=manual", json.dumps({"points": 5}), "application/json", **headers)
    assert (first.status_code, again.status_code) == (201, 200) and again.json()["id"] == first.json()["id"]
    other = ps.post("/points/7/add?type=manual", json.dumps({"points": 6}), "application/json", **headers)
    assert other.status_code == 409 and "detail" in other.json()
    fresh = ps.post("/points/7/add?type=manual", json.dumps({"points": 5}), "application/json",
                    HTTP_IDEMPOTENCY_KEY="abc-2")
    assert fresh.status_code == 201
    assert Member.objects.get(external_id=7).points == 10


# --- who may call it ------------------------------------------------------------------------------------


def test_writes_without_the_key_are_401_and_write_nothing(anon):
    response = post(anon, "/points/7/add?type=manual", {"points": 5})
    assert response.status_code == 401 and "detail" in response.json()
    wrong = Client(HTTP_AUTHORIZATION="Bearer nope")
    assert post(wrong, "/points/7/remove", {"points": 5, "description": "x"}).status_code == 401
    assert LedgerEntry.objects.count() == 0


def test_with_no_key_configured_writes_are_403(ps, ps_settings):
    ps_settings.POINT_SYSTEM_API_KEY = ""
    response = post(ps, "/points/7/add?type=manual", {"points": 5})
    assert response.status_code == 403 and "detail" in response.json()


def test_trusted_client_addresses_write_without_the_key(anon, ps_settings):
    ps_settings.POINT_SYSTEM_API_KEY = ""
    ps_settings.POINT_SYSTEM_TRUSTED_CLIENTS = ["10.0.0.0/8", "192.0.2.7"]
    trusted = anon.post("/points/7/add?type=manual", json.dumps({"points": 5}), "application/json",
                        REMOTE_ADDR="10.1.2.3")
    assert trusted.status_code == 201
    single = anon.post("/points/7/add?type=manual", json.dumps({"points": 6}), "application/json",
                       REMOTE_ADDR="192.0.2.7")
    assert single.status_code == 201
    outsider = anon.post("/points/7/add?type=manual", json.dumps({"points": 7}), "application/json",
                         REMOTE_ADDR="192.0.2.8", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert outsider.status_code == 403


def test_private_reads_need_the_key(anon, ps, ps_settings):
    ps_settings.POINT_SYSTEM_PUBLIC_READS = False
    for path in ("/leaderboard/", "/leaderboard/1/", "/points/transactions", "/points/1/history", "/health"):
        assert anon.get(path).status_code == 401
    assert ps.get("/leaderboard/").status_code == 200


def test_reads_are_public_by_default(anon):
    assert anon.get("/leaderboard/").status_code == 200
    assert anon.get("/points/transactions").json() == []
