import io

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engagement import services
from engagement.models import Activity, LedgerEntry, Member

pytestmark = pytest.mark.django_db


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


# --- auth ----------------------------------------------------------------------------------------------


def test_token_login_returns_a_token_that_authenticates(api, make_user):
    make_user("dora", password="s3cret-pass")
    token = api.post("/api/v1/auth/token", {"username": "dora", "password": "s3cret-pass"}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    profile = api.get("/api/v1/engagement/profile").json()
    assert profile["username"] == f"fan-{profile['user_id']}"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"username": "dora", "password": "wrong"}, 401, "invalid_credentials"),
    ({"username": "dora"}, 400, "validation_error"),
    ("not json", 400, "parse_error"),
])
def test_token_login_refuses_bad_input_with_a_code(api, make_user, body, status, code):
    make_user("dora", password="s3cret-pass")
    if isinstance(body, str):
        response = api.post("/api/v1/auth/token", body, content_type="application/json")
    else:
        response = api.post("/api/v1/auth/token", body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.parametrize("path", ["/api/v1/engagement/profile", "/api/v1/engagement/transactions",
                                  "/api/v1/admin/engagement/transactions"])
def test_member_endpoints_need_authentication(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- profile -------------------------------------------------------------------------------------------


def test_profile_shows_balances_level_progress_and_title(member_api, member):
    services.award(member=member, reason="manual", points=150, xp=350)
    body = member_api.get("/api/v1/engagement/profile").json()
    assert body["user_id"] == member.user_id
    assert (body["points"], body["xp"], body["level"]) == (150, 350, 3)
    assert (body["xp_into_level"], body["xp_for_next_level"]) == (50, 250)
    assert body["level_title"] == "Beginner"
    assert body["achievements"] == 0
    assert body["avatar_upload_unlocked"] is False


def test_patch_profile_sets_a_normalised_username(member_api):
    response = member_api.patch("/api/v1/engagement/profile", {"username": "Fan.Zone-1"}, format="json")
    assert response.status_code == 200
    assert response.json()["username"] == "fan.zone-1"


@pytest.mark.parametrize(("username", "code"), [
    ("ab", "username_length"),
    ("x" * 33, "username_length"),
    ("bad name", "username_characters"),
    ("žluťoučký", "username_characters"),
    ("_edge", "username_edge_special"),
    ("edge.", "username_edge_special"),
    ("two..dots", "username_consecutive_special"),
    ("a-_b", "username_consecutive_special"),
    ("Admin", "username_reserved"),
    ("root", "username_reserved"),
])
def test_patch_profile_names_the_username_rule_broken(member_api, member, username, code):
    response = member_api.patch("/api/v1/engagement/profile", {"username": username}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    member.refresh_from_db()
    assert member.username == f"fan-{member.user_id}"


def test_usernames_are_unique_case_insensitively(member_api, make_user):
    other = services.member_for_user(make_user("bob"))
    Member.objects.filter(pk=other.pk).update(username="taken")
    response = member_api.patch("/api/v1/engagement/profile", {"username": "TAKEN"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "username_taken")


def test_patch_profile_can_hide_the_member_from_leaderboards(member_api, member):
    member_api.patch("/api/v1/engagement/profile", {"show_on_leaderboard": False}, format="json")
    member.refresh_from_db()
    assert member.show_on_leaderboard is False


# --- avatars -------------------------------------------------------------------------------------------


def test_avatar_from_an_allowed_host_is_set(member_api):
    url = "https://api.dicebear.com/9.x/thumbs/svg?seed=42"
    response = member_api.patch("/api/v1/engagement/avatar", {"avatar_url": url}, format="json")
    assert response.status_code == 200 and response.json()["avatar_url"] == url


@pytest.mark.parametrize(("url", "status", "code"), [
    ("https://evil.example.com/a.png", 400, "avatar_host_not_allowed"),
    ("http://api.dicebear.com/a.png", 400, "avatar_url_invalid"),
    ("javascript:alert(1)", 400, "avatar_url_invalid"),
    ("/uploads/a.png", 403, "avatar_upload_locked"),
    ("/media/avatars/1/a.png", 403, "avatar_upload_locked"),
])
def test_avatar_urls_are_checked(member_api, member, url, status, code):
    response = member_api.patch("/api/v1/engagement/avatar", {"avatar_url": url}, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)
    member.refresh_from_db()
    assert member.avatar_url == ""


def test_avatar_upload_needs_the_unlock(member_api):
    upload = io.BytesIO(png_bytes())
    upload.name = "me.png"
    response = member_api.post("/api/v1/engagement/avatar/upload", {"image": upload}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (403, "avatar_upload_locked")


@override_settings(MEDIA_ROOT="/tmp/plaudit-test-media")
def test_avatar_upload_stores_a_real_image_once_unlocked(member_api, member):
    Member.objects.filter(pk=member.pk).update(avatar_upload_unlocked=True)
    upload = io.BytesIO(png_bytes())
    upload.name = "me.gif"  # the name lies; the content decides the type
    response = member_api.post("/api/v1/engagement/avatar/upload", {"image": upload}, format="multipart")
    assert response.status_code == 200
    assert response.json()["avatar_url"].startswith(f"/media/avatars/{member.pk}/")
    assert response.json()["avatar_url"].endswith(".png")


@override_settings(ENGAGEMENT_AVATAR_MAX_BYTES=1024)
@pytest.mark.parametrize(("content", "status", "code"), [
    (b"GIF89a not really", 400, "avatar_not_image"),
    (b"x" * 2048, 413, "avatar_too_large"),
])
def test_avatar_upload_refuses_non_images_and_big_files(member_api, member, content, status, code):
    Member.objects.filter(pk=member.pk).update(avatar_upload_unlocked=True)
    upload = io.BytesIO(content)
    upload.name = "x.png"
    response = member_api.post("/api/v1/engagement/avatar/upload", {"image": upload}, format="multipart")
    assert (response.status_code, response.json()["code"]) == (status, code)


# --- transactions --------------------------------------------------------------------------------------


def test_transactions_are_newest_first_and_filterable(member_api, member):
    services.award(member=member, reason="comment_create")
    services.award(member=member, reason="manual", points=9)
    items = member_api.get("/api/v1/engagement/transactions").json()["items"]
    assert [i["reason"] for i in items] == ["manual", "comment_create"]
    assert set(items[0]) >= {"id", "user_id", "delta", "xp_delta", "reason", "meta", "created_at"}
    filtered = member_api.get("/api/v1/engagement/transactions?reason=comment_create").json()["items"]
    assert [i["delta"] for i in filtered] == [5]


def test_members_only_see_their_own_transactions(member_api, make_user):
    services.award(member=services.member_for_user(make_user("bob")), reason="manual", points=5)
    assert member_api.get("/api/v1/engagement/transactions").json()["items"] == []


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc"])
def test_transactions_limit_is_validated(member_api, query):
    response = member_api.get(f"/api/v1/engagement/transactions?{query}")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


# --- recording actions ---------------------------------------------------------------------------------


@pytest.fixture
def recorder_api(api, make_user):
    service = make_user("club-website")
    service.user_permissions.add(Permission.objects.get(codename="record_action"))
    api.force_authenticate(service)
    return api


def test_recording_an_action_awards_through_the_rule(recorder_api, member):
    body = {"user_id": member.user_id, "reason": "comment_create", "meta": {"comment_id": 7}}
    response = recorder_api.post("/api/v1/engagement/events", body, format="json")
    assert response.status_code == 201
    assert response.json()["awarded"] is True and response.json()["delta"] == 5
    assert LedgerEntry.objects.get().meta == {"comment_id": 7}


def test_recording_past_the_cap_answers_200_with_a_code(recorder_api, member):
    body = {"user_id": member.user_id, "reason": "poll_vote"}
    recorder_api.post("/api/v1/engagement/events", body, format="json")
    response = recorder_api.post("/api/v1/engagement/events", body, format="json")
    assert response.status_code == 200
    assert response.json()["awarded"] is False and response.json()["code"] == "daily_cap_reached"


def test_recording_with_an_idempotency_key_never_double_counts(recorder_api, member):
    body = {"user_id": member.user_id, "reason": "comment_create", "idempotency_key": "comment-7"}
    first = recorder_api.post("/api/v1/engagement/events", body, format="json")
    again = recorder_api.post("/api/v1/engagement/events", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    assert LedgerEntry.objects.count() == 1


def test_recording_reads_the_caller_member_and_key_in_three_statements_before_the_award(member, make_user):
    # Token auth, the permission (one statement: config.permissions.user_has_perm), the member with
    # whether the key was recorded already (one statement). The award's own are pinned in test_ledger_sql.
    service = make_user("club-website")
    service.user_permissions.add(Permission.objects.get(codename="record_action"))
    api = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=service).key}")
    body = {"user_id": member.user_id, "reason": "comment_create", "idempotency_key": "comment-7"}
    with CaptureQueriesContext(connection) as sent:
        assert api.post("/api/v1/engagement/events", body, format="json").status_code == 201
    statements = [q["sql"] for q in sent.captured_queries]
    first_write = next(i for i, sql in enumerate(statements) if sql.startswith(("SAVEPOINT", "BEGIN")))
    assert first_write == 3, "\n".join(statements)
    again = api.post("/api/v1/engagement/events", body, format="json")
    assert (again.status_code, again.json()["replayed"]) == (200, True)


def test_a_too_long_key_is_refused_after_an_unknown_member(recorder_api, member):
    long_key = {"HTTP_IDEMPOTENCY_KEY": "k" * 121}
    unknown = recorder_api.post("/api/v1/engagement/events", {"user_id": 999999, "reason": "comment_create"},
                                format="json", **long_key)
    known = recorder_api.post("/api/v1/engagement/events", {"user_id": member.user_id, "reason": "comment_create"},
                              format="json", **long_key)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "member_not_found")
    assert (known.status_code, known.json()["code"]) == (400, "validation_error")
    assert LedgerEntry.objects.count() == 0


def test_recording_is_rate_limited_per_member_and_reason(recorder_api, member, settings):
    settings.ENGAGEMENT_ACTION_RATES = {"comment_create": "2/min"}
    body = {"user_id": member.user_id, "reason": "comment_create"}
    codes = [recorder_api.post("/api/v1/engagement/events", body, format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert LedgerEntry.objects.count() == 2


def test_members_cannot_record_actions(member_api, make_user):
    other = make_user("bob")
    response = member_api.post("/api/v1/engagement/events", {"user_id": other.pk, "reason": "comment_create"},
                               format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_nobody_can_record_an_action_for_themselves(admin_api, admin_user):
    response = admin_api.post("/api/v1/engagement/events", {"user_id": admin_user.pk, "reason": "comment_create"},
                              format="json")
    assert (response.status_code, response.json()["code"]) == (403, "self_award_forbidden")
    assert LedgerEntry.objects.count() == 0


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"user_id": 999999, "reason": "comment_create"}, 404, "member_not_found"),
    ({"reason": "comment_create"}, 400, "validation_error"),
    ({"user_id": "x", "reason": "comment_create"}, 400, "validation_error"),
    ({"user_id": 1, "reason": "not a slug"}, 400, "validation_error"),
    ({"user_id": 1, "reason": "comment_create", "meta": [1]}, 400, "validation_error"),
])
def test_recording_refuses_bad_input(recorder_api, body, status, code):
    response = recorder_api.post("/api/v1/engagement/events", body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert LedgerEntry.objects.count() == 0


def test_recording_an_unknown_reason_is_a_400(recorder_api, member):
    response = recorder_api.post("/api/v1/engagement/events", {"user_id": member.user_id, "reason": "nope"},
                                 format="json")
    assert (response.status_code, response.json()["code"]) == (400, "unknown_reason")


# --- leaderboard ---------------------------------------------------------------------------------------


def test_leaderboard_shares_ranks_on_ties_and_shows_me(member_api, member, make_user):
    others = [services.member_for_user(make_user(n)) for n in ("b", "c", "d")]
    for m, points in zip([member, *others], [50, 80, 50, 10], strict=True):
        services.award(member=m, reason="manual", points=points)
    body = member_api.get("/api/v1/engagement/leaderboard").json()
    assert [(i["rank"], i["points"]) for i in body["items"]] == [(1, 80), (2, 50), (2, 50), (4, 10)]
    assert (body["me"]["rank"], body["me"]["user_id"]) == (2, member.user_id)


def test_leaderboard_hides_members_who_opted_out(member_api, member, make_user):
    shy = services.member_for_user(make_user("shy"))
    services.award(member=shy, reason="manual", points=100)
    services.award(member=member, reason="manual", points=10)
    Member.objects.filter(pk=shy.pk).update(show_on_leaderboard=False)
    body = member_api.get("/api/v1/engagement/leaderboard").json()
    assert [i["user_id"] for i in body["items"]] == [member.user_id]
    assert body["me"]["rank"] == 1


def test_leaderboard_by_activity_counts_only_that_activity(member_api, member, make_user):
    booth = Activity.objects.create(name="Booth", slug="booth")
    bob = services.member_for_user(make_user("bob"))
    services.award(member=member, reason="manual", points=100)
    services.award(member=bob, reason="claim", points=7, activity=booth)
    body = member_api.get("/api/v1/engagement/leaderboard?activity=booth").json()
    assert [(i["user_id"], i["points"]) for i in body["items"]] == [(bob.user_id, 7)]
    assert body["me"] is None


@pytest.mark.parametrize(("query", "status", "code"), [
    ("limit=101", 400, "validation_error"),
    ("metric=karma", 400, "validation_error"),
    ("window=year", 400, "validation_error"),
    ("activity=nope", 404, "activity_not_found"),
    ("activity=%C2%B2", 404, "activity_not_found"),  # "²" is a digit to str.isdigit() but not to int()
    ("activity=" + "9" * 40, 404, "activity_not_found"),
])
def test_leaderboard_validates_its_query(member_api, query, status, code):
    response = member_api.get(f"/api/v1/engagement/leaderboard?{query}")
    assert (response.status_code, response.json()["code"]) == (status, code)


# --- admin endpoints -----------------------------------------------------------------------------------


def test_admin_adjust_moves_points_only(admin_api, member, admin_user):
    response = admin_api.post("/api/v1/admin/engagement/adjust",
                              {"user_id": member.user_id, "delta": 30, "meta": {"note": "raffle"}}, format="json")
    assert response.status_code == 201
    member.refresh_from_db()
    assert (member.points, member.xp) == (30, 0)
    assert LedgerEntry.objects.get().actor == admin_user


def test_admin_adjust_below_zero_is_a_409_and_writes_nothing(admin_api, member):
    response = admin_api.post("/api/v1/admin/engagement/adjust", {"user_id": member.user_id, "delta": -5},
                              format="json")
    assert (response.status_code, response.json()["code"]) == (409, "insufficient_points")
    assert LedgerEntry.objects.count() == 0


def test_admin_adjust_with_an_idempotency_key_applies_once(admin_api, member):
    body = {"user_id": member.user_id, "delta": 10}
    for _ in range(2):
        admin_api.post("/api/v1/admin/engagement/adjust", body, format="json", HTTP_IDEMPOTENCY_KEY="fix-1")
    member.refresh_from_db()
    assert member.points == 10


@pytest.mark.parametrize(("body", "code"), [
    ({"user_id": 1, "delta": 0}, "invalid_amount"),
    ({"user_id": 1, "delta": "ten"}, "validation_error"),
    ({"user_id": 1, "delta": 5, "reason": "free_points"}, "validation_error"),
])
def test_admin_adjust_refuses_bad_input(admin_api, member, body, code):
    body = {**body, "user_id": member.user_id}
    response = admin_api.post("/api/v1/admin/engagement/adjust", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, code)


def test_admin_endpoints_need_permissions(member_api, member):
    assert member_api.post("/api/v1/admin/engagement/adjust", {"user_id": member.user_id, "delta": 5},
                           format="json").status_code == 403
    assert member_api.get(f"/api/v1/admin/engagement/profile/{member.user_id}").status_code == 403
    assert member_api.get("/api/v1/admin/engagement/transactions").status_code == 403


def test_admin_transactions_and_profile(admin_api, member, make_user):
    services.award(member=member, reason="manual", points=5)
    services.award(member=services.member_for_user(make_user("bob")), reason="manual", points=6)
    assert len(admin_api.get("/api/v1/admin/engagement/transactions").json()["items"]) == 2
    mine = admin_api.get(f"/api/v1/admin/engagement/transactions?user_id={member.user_id}").json()["items"]
    assert [i["delta"] for i in mine] == [5]
    assert admin_api.get(f"/api/v1/admin/engagement/profile/{member.user_id}").json()["points"] == 5
    missing = admin_api.get("/api/v1/admin/engagement/profile/999999")
    assert (missing.status_code, missing.json()["code"]) == (404, "member_not_found")


def test_admin_leaderboard_includes_email_and_allows_big_limits(admin_api, member):
    services.award(member=member, reason="manual", points=5)
    body = admin_api.get("/api/v1/admin/engagement/leaderboard?limit=1000").json()
    assert body["items"][0]["email"] == member.user.email


# --- schema --------------------------------------------------------------------------------------------


def test_openapi_schema_and_docs_page_are_served(api):
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/engagement/profile" in schema.json()["paths"]
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
