"""Member-facing points API under /api/v1/points/."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from engagement import services as ledger
from engagement.models import LedgerEntry
from points_bridge import services
from points_bridge.models import ClaimTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(make_user):
    staff = make_user("door-staff")
    staff.user_permissions.add(Permission.objects.get(codename="award_points"))
    client = APIClient()
    client.force_authenticate(staff)
    return client


@pytest.fixture
def bob(make_user):
    return ledger.member_for_user(make_user("bob", first_name="Bob", last_name="Svoboda"))


@pytest.fixture
def template(activity):
    return ClaimTemplate.objects.create(name="Booth A", activity=activity, points=15)


def test_balance_shows_points_level_and_rank(member_api, member, bob):
    ledger.award(member=bob, reason="x", points=50)
    ledger.award(member=member, reason="x", points=120)
    body = member_api.get("/api/v1/points/balance").json()
    assert body["points"] == 120 and body["level"] == 2 and body["rank"] == 1
    assert body["xp_for_next_level"] == 180


def test_activity_balance_by_slug_and_unknown(member_api, member, activity):
    ledger.award(member=member, reason="x", points=7, activity=activity)
    ledger.award(member=member, reason="x", points=100)
    assert member_api.get("/api/v1/points/balance/booths").json()["points"] == 7
    assert member_api.get(f"/api/v1/points/balance/{activity.pk}").json()["points"] == 7
    missing = member_api.get("/api/v1/points/balance/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "activity_not_found"


def test_history_has_the_right_sign_on_every_row(member_api, member, admin_user):
    ledger.award(member=member, reason="x", points=30)
    ledger.spend(member=member, points=10)
    ledger.adjust(member=member, delta=-5, actor=admin_user)
    body = member_api.get("/api/v1/points/transactions").json()
    assert [r["points"] for r in body["results"]] == [-5, -10, 30]
    assert body["count"] == 3


def test_transactions_filters_and_paging(member_api, member, activity):
    for i in range(4):
        ledger.award(member=member, reason="x", points=i + 1, activity=activity if i % 2 else None)
    assert member_api.get("/api/v1/points/transactions?activity=booths").json()["count"] == 2
    assert member_api.get("/api/v1/points/transactions?type=manual").json()["count"] == 2
    page = member_api.get("/api/v1/points/transactions?limit=1&offset=1").json()
    assert [r["points"] for r in page["results"]] == [3] and page["next"]
    assert member_api.get("/api/v1/points/transactions?type=bogus").status_code == 400


def test_members_see_only_their_own_transactions(member_api, bob, staff_api):
    ledger.award(member=bob, reason="x", points=5)
    refused = member_api.get(f"/api/v1/points/transactions?user_id={bob.user_id}")
    assert refused.status_code == 403
    assert staff_api.get(f"/api/v1/points/transactions?user_id={bob.user_id}").json()["count"] == 1


def test_anonymous_cannot_read_balances(api):
    assert api.get("/api/v1/points/balance").status_code in (401, 403)


def test_claim_endpoint(member_api, member, template):
    code = services.issue_claim_token(template=template)
    response = member_api.post("/api/v1/points/claim", {"code": code}, format="json")
    assert response.status_code == 201 and response.json()["points"] == 15 and response.json()["balance"] == 15
    again = member_api.post("/api/v1/points/claim", {"code": code}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "claim_limit_reached"
    forged = member_api.post("/api/v1/points/claim", {"code": code + "x"}, format="json")
    assert forged.status_code == 400 and forged.json()["code"] == "claim_invalid"


def test_staff_add_manual_needs_a_description(staff_api, bob, activity):
    refused = staff_api.post("/api/v1/points/add", {"user_id": bob.user_id, "points": 5}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "description_required"
    ok = staff_api.post("/api/v1/points/add", {"user_id": bob.user_id, "points": 5, "description": "Helped",
                                               "activity": "booths"}, format="json")
    assert ok.status_code == 201 and ok.json()["balance"] == 5 and ok.json()["activity"] == "booths"


def test_staff_add_by_template(staff_api, bob, template):
    response = staff_api.post("/api/v1/points/add", {"user_id": bob.user_id, "template": template.pk}, format="json")
    assert response.status_code == 201 and response.json()["points"] == 15 and response.json()["balance"] == 15
    again = staff_api.post("/api/v1/points/add", {"user_id": bob.user_id, "template": template.pk}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "claim_limit_reached"


def test_staff_add_is_idempotent_by_key(staff_api, bob):
    body = {"user_id": bob.user_id, "points": 5, "description": "Helped"}
    first = staff_api.post("/api/v1/points/add", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = staff_api.post("/api/v1/points/add", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (201, 200) and again.json()["id"] == first.json()["id"]
    assert LedgerEntry.objects.filter(member=bob).count() == 1


def test_members_cannot_award_or_remove(member_api, bob):
    body = {"user_id": bob.user_id, "points": 5, "description": "x"}
    assert member_api.post("/api/v1/points/add", body, format="json").status_code == 403
    assert member_api.post("/api/v1/points/remove", body, format="json").status_code == 403


def test_staff_without_adjust_cannot_remove(staff_api, bob):
    body = {"user_id": bob.user_id, "points": 5, "description": "x"}
    assert staff_api.post("/api/v1/points/remove", body, format="json").status_code == 403


def test_admin_remove_and_insufficient(admin_api, bob):
    ledger.award(member=bob, reason="x", points=10)
    ok = admin_api.post("/api/v1/points/remove", {"user_id": bob.user_id, "points": 4, "description": "Typo"},
                        format="json")
    assert ok.status_code == 201 and ok.json()["points"] == -4 and ok.json()["balance"] == 6
    short = admin_api.post("/api/v1/points/remove", {"user_id": bob.user_id, "points": 7, "description": "x"},
                           format="json")
    assert short.status_code == 409 and short.json()["code"] == "insufficient_points"
    zero = admin_api.post("/api/v1/points/remove", {"user_id": bob.user_id, "points": 0, "description": "x"},
                          format="json")
    assert zero.status_code == 400


def test_member_search_and_personal_code_resolution(staff_api, member_api, bob):
    found = staff_api.get("/api/v1/points/members?q=svob").json()["items"]
    assert [m["user_id"] for m in found] == [bob.user_id]
    code = member_api.get("/api/v1/points/me/code").json()["code"]
    alice = staff_api.post("/api/v1/points/members/resolve", {"code": code}, format="json").json()
    assert alice["username"] == f"fan-{alice['user_id']}"  # the handle every member has from the start
    member_api.post("/api/v1/points/me/code/rotate")
    stale = staff_api.post("/api/v1/points/members/resolve", {"code": code}, format="json")
    assert stale.status_code == 400 and stale.json()["code"] == "member_code_rotated"
    assert member_api.get("/api/v1/points/members?q=bob").status_code == 403


def test_public_leaderboard_shares_ranks_on_ties_and_flags_the_viewer(member_api, member, bob, make_user):
    carol = ledger.member_for_user(make_user("carol"))
    for m, points in ((member, 20), (bob, 20), (carol, 10)):
        ledger.award(member=m, reason="x", points=points)
    body = member_api.get("/api/v1/points/leaderboard?limit=5").json()
    assert [(r["rank"], r["points"]) for r in body["items"]] == [(1, 20), (1, 20), (3, 10)]
    assert [r["me"] for r in body["items"] if r["user_id"] == member.user_id] == [True]
    assert body["me"]["rank"] == 1 and body["updated_at"]


def test_leaderboard_is_public_and_validates(api):
    assert api.get("/api/v1/points/leaderboard").status_code == 200
    assert api.get("/api/v1/points/leaderboard?limit=0").status_code == 400
    assert api.get("/api/v1/points/leaderboard?activity=nope").status_code == 404


@pytest.mark.parametrize("ref", ["²", "9" * 5000, "x" * 300])
def test_odd_activity_references_are_404_not_500(member_api, ref):
    assert member_api.get(f"/api/v1/points/balance/{ref}").status_code == 404
    assert Client().get(f"/board/?activity={ref}").status_code == 200


def test_a_retried_staff_template_award_with_the_same_key_is_a_200(staff_api, bob, template):
    body = {"user_id": bob.user_id, "template": template.pk}
    first = staff_api.post("/api/v1/points/add", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    again = staff_api.post("/api/v1/points/add", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert (first.status_code, again.status_code) == (201, 200) and again.json()["id"] == first.json()["id"]
