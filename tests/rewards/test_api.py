from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from engagement.models import Member
from rewards import services
from rewards.models import Redemption, Reward

pytestmark = pytest.mark.django_db
REWARDS, REDEEM, MINE = "/api/v1/engagement/rewards", "/api/v1/engagement/redeem", "/api/v1/engagement/redemptions"
ADMIN_REWARDS, ADMIN_REDEMPTIONS = "/api/v1/admin/engagement/rewards", "/api/v1/admin/engagement/redemptions"


def test_public_catalogue_hides_sold_out_inactive_and_out_of_window_rewards(api, make_reward):
    unlimited = make_reward("merch_digital", stock=None, cost_points=80)
    limited = make_reward("merch_physical", stock=3, cost_points=500)
    make_reward("merch_physical", name="Sold out", stock=0)
    make_reward("custom", name="Hidden", active=False)
    make_reward("custom", name="Later", available_from=timezone.now() + timedelta(days=1))
    make_reward("custom", name="Over", available_until=timezone.now() - timedelta(days=1))
    response = api.get(REWARDS)
    assert response.status_code == 200
    contract = ["id", "name", "type", "cost_points", "cost_type", "image_url", "stock", "active", "description"]
    # The limited-time fields are additive (tests/rewards/test_limited_time.py); the contract's are unchanged.
    assert [{key: item[key] for key in contract} for item in response.json()] == [
        {"id": unlimited.pk, "name": "Wallpaper pack", "type": "merch_digital", "cost_points": 80,
         "cost_type": "points", "image_url": "", "stock": -1, "active": True, "description": ""},
        {"id": limited.pk, "name": "Club T-shirt", "type": "merch_physical", "cost_points": 500,
         "cost_type": "points", "image_url": "", "stock": 3, "active": True, "description": ""},
    ]


def test_catalogue_never_shows_metadata_such_as_coupon_codes(api, make_reward):
    make_reward("merch_coupon")
    assert "CLUB10" not in api.get(REWARDS).content.decode()


def test_redeem_returns_the_contract_shape(member_api, rich_member, tshirt):
    response = member_api.post(REDEEM, {"reward_id": tshirt.pk}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body == {"ok": True, "status": "pending", "redemption_id": Redemption.objects.get().pk, "replayed": False}


def test_redeem_with_an_idempotency_key_replays(member_api, rich_member, tshirt):
    headers = {"Idempotency-Key": "abc"}
    first = member_api.post(REDEEM, {"reward_id": tshirt.pk}, format="json", headers=headers)
    again = member_api.post(REDEEM, {"reward_id": tshirt.pk}, format="json", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["redemption_id"] == first.json()["redemption_id"] and again.json()["replayed"] is True
    assert Redemption.objects.count() == 1


@pytest.mark.parametrize(("setup", "status", "code"), [
    ({"stock": 0}, 409, "out_of_stock"),
    ({"cost_points": 5000}, 409, "insufficient_points"),
    ({"active": False}, 409, "reward_unavailable"),
])
def test_redeem_errors_are_json_with_codes(member_api, rich_member, tshirt, setup, status, code):
    Reward.objects.filter(pk=tshirt.pk).update(**setup)
    response = member_api.post(REDEEM, {"reward_id": tshirt.pk}, format="json")
    assert response.status_code == status and response.json()["code"] == code


def test_redeem_an_owned_unlock_is_already_redeemed(member_api, rich_member, make_reward):
    reward = make_reward("avatar_upload_unlock")
    assert member_api.post(REDEEM, {"reward_id": reward.pk}, format="json").json()["status"] == "approved"
    response = member_api.post(REDEEM, {"reward_id": reward.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "already_redeemed")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "validation_error"),
    ({"reward_id": "abc"}, 400, "validation_error"),
    ({"reward_id": 0}, 400, "validation_error"),
    ({"reward_id": -3}, 400, "validation_error"),
    ({"reward_id": 10**30}, 400, "validation_error"),
    ({"reward_id": None}, 400, "validation_error"),
    ({"reward_id": [1]}, 400, "validation_error"),
    ({"reward_id": 987654}, 404, "reward_not_found"),
])
def test_redeem_bad_input_is_a_4xx_with_a_code(member_api, rich_member, body, status, code):
    response = member_api.post(REDEEM, body, format="json")
    assert response.status_code == status and response.json()["code"] == code


def test_redeem_malformed_json_is_400(member_api):
    response = member_api.post(REDEEM, "{nope", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_redeem_too_long_idempotency_key_is_400(member_api, rich_member, tshirt):
    response = member_api.post(REDEEM, {"reward_id": tshirt.pk}, format="json", headers={"Idempotency-Key": "k" * 121})
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def test_redeem_needs_a_login(api, tshirt):
    response = api.post(REDEEM, {"reward_id": tshirt.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_redeem_is_throttled_per_member_but_replays_are_free(member_api, rich_member, make_reward):
    reward = make_reward("merch_digital")
    for i in range(5):
        assert member_api.post(REDEEM, {"reward_id": reward.pk}, format="json",
                               headers={"Idempotency-Key": f"k{i}"}).status_code == 201
    replay = member_api.post(REDEEM, {"reward_id": reward.pk}, format="json", headers={"Idempotency-Key": "k0"})
    assert replay.status_code == 200
    response = member_api.post(REDEEM, {"reward_id": reward.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (429, "throttled")
    assert Redemption.objects.count() == 5


@override_settings(REWARDS_REDEEM_RATE="1/hour")
def test_the_redeem_rate_is_a_setting(member_api, rich_member, make_reward):
    reward = make_reward("merch_digital")
    assert member_api.post(REDEEM, {"reward_id": reward.pk}, format="json").status_code == 201
    assert member_api.post(REDEEM, {"reward_id": reward.pk}, format="json").status_code == 429


def test_members_see_only_their_own_redemptions_with_delivery_after_approval(
        member_api, rich_member, make_reward, make_user, fund, admin_user):
    coupon = make_reward("merch_coupon")
    mine = services.redeem(member=rich_member, reward_id=coupon.pk)
    other = fund(Member.objects.get(user=make_user("bob")), 500)
    services.redeem(member=other, reward_id=coupon.pk)
    items = member_api.get(MINE).json()
    assert [item["id"] for item in items] == [mine.pk]
    assert items[0]["delivery"] == {} and items[0]["reward"]["name"] == coupon.name
    services.approve(redemption_id=mine.pk, actor=admin_user)
    assert member_api.get(MINE).json()[0]["delivery"] == {"coupon_code": "CLUB10", "expires_at": "2027-12-31",
                                                         "discount": "10 %"}


@pytest.mark.parametrize("query", ["limit=0", "limit=5000", "limit=x", "offset=-1"])
def test_redemptions_bad_paging_is_400(member_api, query):
    assert member_api.get(f"{MINE}?{query}").status_code == 400


# --- admin ---------------------------------------------------------------------------------------------

REWARD_BODY = {"name": "Scarf", "type": "merch_physical", "cost_points": 300, "stock": 10,
               "metadata": {"sku": "SCARF", "color": "green"}}


def test_admin_creates_a_reward_with_stock_semantics(admin_api):
    response = admin_api.post(ADMIN_REWARDS, {**REWARD_BODY, "stock": -1}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["stock"] == -1 and body["metadata"] == {"sku": "SCARF", "color": "green"}
    assert Reward.objects.get(pk=body["id"]).stock is None


def test_admin_list_filters_by_active(admin_api, make_reward):
    on, off = make_reward("custom", name="On"), make_reward("custom", name="Off", active=False, stock=0)
    assert [r["id"] for r in admin_api.get(f"{ADMIN_REWARDS}?active=true").json()] == [on.pk]
    listed = admin_api.get(f"{ADMIN_REWARDS}?active=false").json()
    assert [(r["id"], r["stock"]) for r in listed] == [(off.pk, 0)]
    assert len(admin_api.get(ADMIN_REWARDS).json()) == 2
    assert admin_api.get(f"{ADMIN_REWARDS}?active=maybe").status_code == 400


@pytest.mark.parametrize(("change", "field"), [
    ({"stock": -2}, "stock"),
    ({"stock": "lots"}, "stock"),
    ({"stock": 2**40}, "stock"),
    ({"cost_points": 0}, "cost_points"),
    ({"cost_points": 2**40}, "cost_points"),
    ({"type": "spaceship"}, "type"),
    ({"metadata": {"colour": "red"}}, "metadata"),
    ({"metadata": "sku=1"}, "metadata"),
    ({"metadata": {"sku": "S", "colour_": "x"}}, "metadata"),
    ({"cost_type": "euros"}, "cost_type"),
    ({"image_url": "not a url"}, "image_url"),
    ({"name": ""}, "name"),
    ({"available_from": "2030-01-02T00:00:00Z", "available_until": "2030-01-01T00:00:00Z"}, "available_until"),
    ({"available_from": "yesterday"}, "available_from"),
])
def test_admin_reward_bad_input_is_400_naming_the_field(admin_api, change, field):
    response = admin_api.post(ADMIN_REWARDS, {**REWARD_BODY, **change}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error" and field in response.json()["errors"]
    assert not Reward.objects.exists()


def test_admin_put_replaces_and_delete_deactivates_when_redeemed(admin_api, rich_member, tshirt):
    url = f"{ADMIN_REWARDS}/{tshirt.pk}"
    response = admin_api.put(url, {**REWARD_BODY, "stock": 0}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "Scarf" and response.json()["stock"] == 0
    Reward.objects.filter(pk=tshirt.pk).update(stock=3)
    services.redeem(member=rich_member, reward_id=tshirt.pk)
    response = admin_api.delete(url)
    assert response.status_code == 200 and response.json()["deactivated"] is True
    assert Reward.objects.get(pk=tshirt.pk).active is False


def test_admin_delete_of_an_unused_reward_deletes_it(admin_api, tshirt):
    assert admin_api.delete(f"{ADMIN_REWARDS}/{tshirt.pk}").status_code == 204
    assert admin_api.delete(f"{ADMIN_REWARDS}/{tshirt.pk}").status_code == 404
    assert admin_api.put(f"{ADMIN_REWARDS}/{tshirt.pk}", REWARD_BODY, format="json").status_code == 404


def test_admin_unknown_ids_are_404_even_when_huge(admin_api):
    for url in (f"{ADMIN_REWARDS}/99999999999999999999999", f"{ADMIN_REDEMPTIONS}/99999999999999999999999"):
        response = admin_api.get(url)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    response = admin_api.patch(f"{ADMIN_REDEMPTIONS}/99999999999999999999999", {"action": "approve"}, format="json")
    assert response.status_code == 404


def test_admin_redemptions_newest_first_with_member_and_reward(admin_api, rich_member, tshirt, make_reward):
    old = services.redeem(member=rich_member, reward_id=tshirt.pk, at=timezone.now() - timedelta(hours=1))
    new = services.redeem(member=rich_member, reward_id=make_reward("avatar_static").pk)
    items = admin_api.get(ADMIN_REDEMPTIONS).json()
    assert [item["id"] for item in items] == [new.pk, old.pk]
    assert items[1]["member"]["user_id"] == rich_member.user_id and items[1]["member"]["email"] == "alice@example.org"
    assert items[1]["reward"]["id"] == tshirt.pk
    assert [i["id"] for i in admin_api.get(f"{ADMIN_REDEMPTIONS}?status=pending").json()] == [old.pk]
    response = admin_api.get(f"{ADMIN_REDEMPTIONS}?status=lost")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


def test_admin_patch_runs_the_workflow(admin_api, admin_user, rich_member, tshirt):
    redemption = services.redeem(member=rich_member, reward_id=tshirt.pk)
    url = f"{ADMIN_REDEMPTIONS}/{redemption.pk}"
    response = admin_api.patch(url, {"action": "approve", "note": "packed"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_by"], response.json()["note"]) == (
        "approved", admin_user.username, "packed")
    response = admin_api.patch(url, {"action": "reject"}, format="json")
    assert (response.status_code, response.json()["code"], response.json()["status"]) == (
        409, "invalid_transition", "approved")
    assert admin_api.patch(url, {"action": "fulfill"}, format="json").json()["status"] == "fulfilled"


def test_admin_patch_reject_refunds(admin_api, rich_member, tshirt):
    redemption = services.redeem(member=rich_member, reward_id=tshirt.pk)
    body = admin_api.patch(f"{ADMIN_REDEMPTIONS}/{redemption.pk}", {"action": "reject"}, format="json").json()
    assert body["status"] == "rejected" and body["refund_entry_id"] is not None
    assert Member.objects.get(pk=rich_member.pk).points == 1000 and Reward.objects.get(pk=tshirt.pk).stock == 5


@pytest.mark.parametrize("body", [{}, {"action": "cancel"}, {"action": None}, {"action": "approve", "note": ["x"]}])
def test_admin_patch_bad_input_is_400(admin_api, rich_member, tshirt, body):
    redemption = services.redeem(member=rich_member, reward_id=tshirt.pk)
    response = admin_api.patch(f"{ADMIN_REDEMPTIONS}/{redemption.pk}", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


def test_admin_patch_unknown_redemption_is_404(admin_api):
    response = admin_api.patch(f"{ADMIN_REDEMPTIONS}/4242", {"action": "approve"}, format="json")
    assert (response.status_code, response.json()["code"]) == (404, "redemption_not_found")


@pytest.mark.parametrize(("method", "url", "perm"), [
    ("get", ADMIN_REWARDS, "view_reward"),
    ("post", ADMIN_REWARDS, "add_reward"),
    ("get", ADMIN_REDEMPTIONS, "view_redemption"),
])
def test_admin_endpoints_need_the_django_permission(make_user, grant, method, url, perm):
    client = APIClient()
    staff = make_user("clerk", is_staff=True)
    client.force_authenticate(staff)
    body = REWARD_BODY if method == "post" else None
    response = getattr(client, method)(url, body, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    grant(staff, perm)
    client.force_authenticate(type(staff).objects.get(pk=staff.pk))
    assert getattr(client, method)(url, body, format="json").status_code in (200, 201)


def test_admin_patch_needs_change_permission(make_user, grant, rich_member, tshirt):
    redemption = services.redeem(member=rich_member, reward_id=tshirt.pk)
    viewer = grant(make_user("viewer"), "view_redemption")
    client = APIClient()
    client.force_authenticate(viewer)
    url = f"{ADMIN_REDEMPTIONS}/{redemption.pk}"
    assert client.get(url).status_code == 200
    assert client.patch(url, {"action": "approve"}, format="json").status_code == 403
    assert Redemption.objects.get(pk=redemption.pk).status == "pending"


def test_member_endpoints_have_no_trailing_slash_and_never_redirect(api):
    assert api.get(REWARDS + "/").status_code == 404
