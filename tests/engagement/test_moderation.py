"""Bans and unban requests, through the API: a ban blocks every earning path (the engagement API,
claims, staff awards, check-in rules, the Point System protocol, achievements), redeeming and profile
edits, and hides the member from leaderboards; the unban queue lifts or keeps it."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from checkin import services as checkin
from checkin.models import CheckinList, Event, Organizer, Ticket
from engagement import leaderboards, moderation, services
from engagement.models import Achievement, Ban, LedgerEntry, Member, UnbanRequest
from points_bridge import services as bridge
from points_bridge.models import AwardRule, ClaimTemplate
from rewards.models import Reward

pytestmark = pytest.mark.django_db
BAN = "/api/v1/admin/engagement/members/{}/ban"
UNBAN_REQUEST = "/api/v1/engagement/unban-request"
PS_KEY = "test-point-system-key"


def ban(admin_api, member, **body):
    response = admin_api.post(BAN.format(member.user_id), {"reason": "Spam in comments", **body}, format="json")
    assert response.status_code == 201, response.json()
    member.refresh_from_db()
    return response.json()


@pytest.fixture
def banned(admin_api, member, mailoutbox, django_capture_on_commit_callbacks):
    until = timezone.now() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        ban(admin_api, member, until=until.isoformat())
    return member


def assert_banned(response):
    body = response.json()
    assert response.status_code == 403, body
    assert body["code"] == "member_banned"
    return body


# --- the ban itself -------------------------------------------------------------------------------------


def test_a_ban_is_logged_emailed_and_shown_on_the_profile(admin_api, admin_user, member, mailoutbox,
                                                           django_capture_on_commit_callbacks, member_api):
    until = timezone.now() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        body = ban(admin_api, member, until=until.isoformat())
    assert body["active"] and body["reason"] == "Spam in comments" and body["user_id"] == member.user_id
    assert (member.banned, member.banned_until) == (True, until)
    log = LogEntry.objects.get(user=admin_user, object_id=str(member.pk))
    assert "Banned until" in log.change_message and "Spam in comments" in log.change_message
    assert mailoutbox[-1].to == [member.user.email] and "banned" in mailoutbox[-1].subject
    profile = member_api.get("/api/v1/engagement/profile").json()
    assert profile["banned"] is True and profile["banned_until"] is not None


def test_lifting_a_ban_is_logged_and_emailed(banned, admin_api, admin_user, mailoutbox,
                                             django_capture_on_commit_callbacks, member_api):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.delete(BAN.format(banned.user_id))
    assert response.status_code == 200 and response.json()["end"] == "lifted" and not response.json()["active"]
    assert LogEntry.objects.filter(user=admin_user, change_message="Ban lifted.").count() == 1
    assert "lifted" in mailoutbox[-1].subject
    assert member_api.patch("/api/v1/engagement/profile", {"username": "alice2"}, format="json").status_code == 200
    again = admin_api.delete(BAN.format(banned.user_id))
    assert (again.status_code, again.json()["code"]) == (409, "not_banned")


@pytest.mark.parametrize(("body", "code"), [
    ({"reason": ""}, "validation_error"),
    ({"reason": "x", "until": "2001-01-01T00:00:00Z"}, "ban_until_past"),
    ({"reason": "x", "until": "tomorrow"}, "validation_error"),
])
def test_bad_ban_requests_are_refused_with_a_code(admin_api, member, body, code):
    response = admin_api.post(BAN.format(member.user_id), body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert not Ban.objects.exists()


def test_banning_needs_the_permission_and_an_existing_member(member_api, admin_api, make_user):
    other = services.member_for_user(make_user("bob"))
    assert member_api.post(BAN.format(other.user_id), {"reason": "x"}, format="json").status_code == 403
    missing = admin_api.post(BAN.format(999999), {"reason": "x"}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (404, "member_not_found")


def test_banning_again_replaces_the_ban(banned, admin_api):
    ban(admin_api, banned)  # no end date now
    assert banned.banned_until is None
    assert list(Ban.objects.order_by("pk").values_list("end", flat=True)) == ["replaced", ""]


# --- every earning path is closed -----------------------------------------------------------------------


def test_the_events_endpoint_refuses_awards_with_the_end_date(banned, admin_api):
    response = admin_api.post("/api/v1/engagement/events", {"user_id": banned.user_id, "reason": "comment_create"},
                              format="json")
    body = assert_banned(response)
    assert body["until"] == banned.banned_until.isoformat()
    assert not LedgerEntry.objects.filter(member=banned).exists()


def test_a_replayed_key_from_before_the_ban_still_answers(member, admin_api):
    body = {"user_id": member.user_id, "reason": "comment_create", "idempotency_key": "c-1"}
    assert admin_api.post("/api/v1/engagement/events", body, format="json").status_code == 201
    ban(admin_api, member)
    replay = admin_api.post("/api/v1/engagement/events", body, format="json")
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_claims_and_staff_awards_are_refused(banned, member_api, admin_api):
    template = ClaimTemplate.objects.create(name="Booth", points=15)
    code = bridge.issue_claim_token(template=template)
    assert_banned(member_api.post("/api/v1/points/claim", {"code": code}, format="json"))
    assert_banned(admin_api.post("/api/v1/points/add", {"user_id": banned.user_id, "points": 5,
                                                        "description": "Helped"}, format="json"))
    assert_banned(admin_api.post("/api/v1/points/add", {"user_id": banned.user_id, "template": template.pk},
                                 format="json"))
    assert not LedgerEntry.objects.filter(member=banned).exists()


def test_the_point_system_protocol_refuses_awards_but_not_removals(settings, member, admin_api):
    settings.POINT_SYSTEM_API_KEY = PS_KEY
    settings.POINT_SYSTEM_FORWARD_URL = ""
    ps = Client(HTTP_AUTHORIZATION=f"Bearer {PS_KEY}")
    Member.objects.filter(pk=member.pk).update(external_id=7)
    assert ps.post("/points/7/add?type=manual", json.dumps({"points": 9}), "application/json").status_code == 201
    ban(admin_api, member)
    refused = ps.post("/points/7/add?type=manual", json.dumps({"points": 5}), "application/json")
    assert (refused.status_code, refused.json()["code"], refused.json()["until"]) == (403, "member_banned", None)
    assert ps.post("/points/7/remove", json.dumps({"points": 4}), "application/json").status_code == 201
    member.refresh_from_db()
    assert member.points == 5


def test_check_in_awards_are_not_paid_but_the_scan_stands(banned, django_capture_on_commit_callbacks):
    organizer = Organizer.objects.create(name="Club", slug="club")
    event = Event.objects.create(organizer=organizer, name="Conf", slug="conf")
    clist = CheckinList.objects.create(event=event, name="Main", attendance_points=10)
    AwardRule.objects.create(name="Attendance", checkin_list=clist)
    ticket = Ticket.objects.create(event=event, order_code="A1", member=banned)
    with django_capture_on_commit_callbacks(execute=True):
        result = checkin.redeem(secret=ticket.secret, lists=[clist], req=checkin.ScanRequest(type="entry"))
    assert result.ok
    assert not LedgerEntry.objects.filter(member=banned).exists()


def test_achievements_do_not_unlock_while_banned(banned):
    Achievement.objects.create(code="rich", title="Rich", points=5, rule={"type": "level", "min": 1})
    from engagement.achievements import evaluate_member

    assert evaluate_member(member_id=banned.pk) == []


def test_the_ban_ends_at_its_end_date_and_the_sweep_lists_the_member_again(banned, admin_api):
    later = banned.banned_until + timedelta(seconds=1)
    services.award(member=banned, reason="manual", points=3, at=later)  # refusing stops at the date
    assert moderation.end_expired_bans(at=later) == 1
    banned.refresh_from_db()
    assert (banned.banned, Ban.objects.get().end) == (False, "expired")
    assert [row.member.pk for row in leaderboards.leaderboard(use_redis=False).items] == [banned.pk]


# --- redeem and profile ---------------------------------------------------------------------------------


def test_redeem_is_refused(member, admin_api, member_api):
    services.award(member=member, reason="manual", points=100)
    reward = Reward.objects.create(name="Sticker", type="custom", cost_points=10)
    ban(admin_api, member)
    assert_banned(member_api.post("/api/v1/engagement/redeem", {"reward_id": reward.pk}, format="json"))
    member.refresh_from_db()
    assert member.points == 100


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/engagement/profile", {"username": "newname"}),
    ("/api/v1/engagement/profile", {"show_on_leaderboard": False}),
    ("/api/v1/engagement/avatar", {"avatar_url": ""}),
])
def test_profile_edits_are_refused(banned, member_api, path, body):
    assert_banned(member_api.patch(path, body, format="json"))
    banned.refresh_from_db()
    assert (banned.username, banned.show_on_leaderboard) == (f"fan-{banned.user_id}", True)


def test_avatar_upload_is_refused(banned, member_api):
    Member.objects.filter(pk=banned.pk).update(avatar_upload_unlocked=True)
    image = SimpleUploadedFile("a.png", b"\x89PNG not really", content_type="image/png")
    assert_banned(member_api.post("/api/v1/engagement/avatar/upload", {"image": image}, format="multipart"))


# --- leaderboards ---------------------------------------------------------------------------------------


def test_banned_members_are_hidden_from_every_leaderboard(member, make_user, admin_api, api):
    other = services.member_for_user(make_user("bob"))
    services.award(member=member, reason="manual", points=50)
    services.award(member=other, reason="manual", points=10)
    ban(admin_api, member)
    for window in ("all", "day"):
        board = api.get(f"/api/v1/engagement/leaderboard?window={window}").json()
        assert [(row["user_id"], row["rank"]) for row in board["items"]] == [(other.user_id, 1)]
    admin_api.delete(BAN.format(member.user_id))
    board = api.get("/api/v1/engagement/leaderboard").json()
    assert [row["user_id"] for row in board["items"]] == [member.user_id, other.user_id]


def test_a_banned_member_does_not_see_themselves_ranked(banned, member_api):
    services.award(member=banned, reason="manual", points=5, at=banned.banned_until + timedelta(seconds=1))
    assert member_api.get("/api/v1/engagement/leaderboard").json()["me"] is None


# --- unban requests -------------------------------------------------------------------------------------


def test_an_unban_request_waits_in_the_queue_and_admins_hear_of_it(banned, member_api, admin_user, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_api.post(UNBAN_REQUEST, {"message": "Sorry, it was my brother."}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert mailoutbox[-1].to == [admin_user.email] and "Unban request" in mailoutbox[-1].subject
    again = member_api.post(UNBAN_REQUEST, {"message": "Please?"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "unban_request_pending")


def test_only_banned_members_can_ask(member_api):
    response = member_api.post(UNBAN_REQUEST, {"message": "Hi"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "not_banned")
    assert member_api.post(UNBAN_REQUEST, {}, format="json").json()["code"] == "validation_error"


def test_unban_requests_are_limited_to_five_an_hour(banned, member_api):
    for _ in range(5):
        assert member_api.post(UNBAN_REQUEST, {"message": "Hi"}, format="json").status_code in (201, 409)
    limited = member_api.post(UNBAN_REQUEST, {"message": "Hi"}, format="json")
    assert (limited.status_code, limited.json()["code"]) == (429, "throttled")
    # The Retry-After header comes with config/exceptions.py's 429 handling; the body carries the same.
    assert limited.json()["retry_after"] > 0


def test_approving_lifts_the_ban_and_rejecting_keeps_it(banned, member_api, admin_user, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    member_api.post(UNBAN_REQUEST, {"message": "Sorry"}, format="json")
    first = UnbanRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        moderation.reject_unban_request(request_id=first.pk, actor=admin_user, note="Not yet.")
    banned.refresh_from_db()
    assert banned.banned and "not approved" in mailoutbox[-1].subject
    member_api.post(UNBAN_REQUEST, {"message": "Sorry again"}, format="json")
    second = UnbanRequest.objects.get(status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        moderation.approve_unban_request(request_id=second.pk, actor=admin_user)
    banned.refresh_from_db()
    assert not banned.banned and "approved" in mailoutbox[-1].subject
    assert Ban.objects.get().end == "appeal"
    with pytest.raises(moderation.ModerationError) as twice:
        moderation.reject_unban_request(request_id=second.pk, actor=admin_user)
    assert twice.value.code == "invalid_transition"
