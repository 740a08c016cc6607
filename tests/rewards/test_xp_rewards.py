"""XP-only rewards (nothing deducted; the member needs that much XP), PATCH on admin rewards, the bulk
activate action and the migration of stored metadata to the specification's keys."""

import importlib

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.test import Client

from engagement import services as ledger
from engagement.models import LedgerEntry
from rewards import services
from rewards.models import Redemption, Reward

pytestmark = pytest.mark.django_db
REWARDS, REDEEM = "/api/v1/engagement/rewards", "/api/v1/engagement/redeem"
ADMIN_REWARDS = "/api/v1/admin/engagement/rewards"


@pytest.fixture
def badge(make_reward):
    return make_reward("custom", name="Veteran scarf", cost_points=300, cost_type="xp", stock=2)


@pytest.fixture
def veteran(member):
    ledger.award(member=member, reason="test_fund", points=40, xp=500)
    member.refresh_from_db()
    return member


def test_an_xp_only_redeem_leaves_points_unchanged(member_api, veteran, badge):
    response = member_api.post(REDEEM, {"reward_id": badge.pk}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "pending"
    veteran.refresh_from_db()
    assert (veteran.points, veteran.xp) == (40, 500)
    assert LedgerEntry.objects.filter(member=veteran).count() == 1  # only the funding award
    redemption = Redemption.objects.get()
    assert (redemption.cost_type, redemption.spend_entry, Reward.objects.get().stock) == ("xp", None, 1)
    mine = member_api.get("/api/v1/engagement/redemptions").json()[0]
    assert (mine["cost_points"], mine["cost_type"]) == (300, "xp")


def test_not_enough_xp_is_409_and_points_do_not_help(member_api, member, badge):
    ledger.award(member=member, reason="test_fund", points=10_000, xp=299)
    response = member_api.post(REDEEM, {"reward_id": badge.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "insufficient_xp")
    assert response.json()["needed"] == 300 and response.json()["xp"] == 299
    assert not Redemption.objects.exists()


def test_an_xp_only_reward_is_owned_once_until_rejected(member_api, veteran, badge, admin_user):
    first = member_api.post(REDEEM, {"reward_id": badge.pk}, format="json").json()
    again = member_api.post(REDEEM, {"reward_id": badge.pk}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_redeemed")
    services.reject(redemption_id=first["redemption_id"], actor=admin_user)
    rejected = Redemption.objects.get()
    assert rejected.refund_entry is None and Reward.objects.get().stock == 2  # the unit came back, no refund
    assert member_api.post(REDEEM, {"reward_id": badge.pk}, format="json").status_code == 201
    veteran.refresh_from_db()
    assert veteran.points == 40


def test_the_store_and_the_admin_api_show_the_cost_type(api, admin_api, badge, make_reward):
    make_reward("custom", name="Mug", cost_points=50)
    store = {r["name"]: r["cost_type"] for r in api.get(REWARDS).json()}
    assert store == {"Mug": "points", "Veteran scarf": "xp"}
    created = admin_api.post(ADMIN_REWARDS, {"name": "Pin", "type": "custom", "cost_points": 1000,
                                             "cost_type": "xp"}, format="json")
    assert created.status_code == 201 and created.json()["cost_type"] == "xp"


def test_the_admin_changelist_filters_by_cost_type(admin_user, badge, make_reward):
    make_reward("custom", name="Mug", cost_points=50)
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/rewards/reward/", {"cost_type__exact": "xp"})
    assert [r.name for r in page.context["cl"].result_list] == ["Veteran scarf"]


# --- PATCH and bulk activate ----------------------------------------------------------------------------


def test_patch_edits_only_the_given_fields(admin_api, badge):
    Reward.objects.filter(pk=badge.pk).update(stock=1)  # sold meanwhile: a PATCH must not put it back
    response = admin_api.patch(f"{ADMIN_REWARDS}/{badge.pk}", {"name": "Old-timer scarf"}, format="json")
    assert response.status_code == 200, response.json()
    reward = Reward.objects.get()
    assert (reward.name, reward.cost_points, reward.cost_type, reward.stock) == ("Old-timer scarf", 300, "xp", 1)


def test_patch_validates_metadata_against_the_rewards_type(admin_api, make_reward):
    shirt = make_reward("merch_physical")
    ok = admin_api.patch(f"{ADMIN_REWARDS}/{shirt.pk}", {"metadata": {"sku": "TS-2", "color": "red"}},
                         format="json")
    assert ok.status_code == 200 and ok.json()["metadata"] == {"sku": "TS-2", "color": "red"}
    bad = admin_api.patch(f"{ADMIN_REWARDS}/{shirt.pk}", {"metadata": {"colour_": "red"}}, format="json")
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error") and "metadata" in bad.json()["errors"]
    assert admin_api.patch(f"{ADMIN_REWARDS}/{shirt.pk}", {"stock": -5}, format="json").status_code == 400
    assert admin_api.patch(f"{ADMIN_REWARDS}/999999", {"name": "x"}, format="json").status_code == 404


def test_patch_needs_the_change_permission(member_api, badge):
    assert member_api.patch(f"{ADMIN_REWARDS}/{badge.pk}", {"name": "x"}, format="json").status_code == 403


def test_bulk_activate_switches_on_and_logs_only_what_changed(admin_user, make_reward):
    off = make_reward("custom", name="Off", active=False)
    on = make_reward("custom", name="On")
    client = Client()
    client.force_login(admin_user)
    response = client.post("/admin/rewards/reward/", {"action": "activate_selected",
                                                      "_selected_action": [off.pk, on.pk]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Activated 1 reward(s)."]
    assert set(Reward.objects.values_list("active", flat=True)) == {True}
    assert list(LogEntry.objects.values_list("object_id", "change_message")) == [(str(off.pk), "Activated.")]


# --- stored metadata ------------------------------------------------------------------------------------


def test_the_migration_moves_stored_metadata_to_the_specifications_keys(make_reward):
    shirt, key, coupon, custom = (make_reward(t) for t in ("merch_physical", "merch_digital", "merch_coupon", "custom"))
    # As rows written before this change hold them (no validation on the way in).
    Reward.objects.filter(pk=shirt.pk).update(metadata={"sku": "S", "colour": "navy"})
    Reward.objects.filter(pk=key.pk).update(metadata={"licence_key": "K"})
    Reward.objects.filter(pk=coupon.pk).update(metadata={"coupon_code": "C", "expires_on": "2027-12-31"})
    Reward.objects.filter(pk=custom.pk).update(metadata={"colour": "free-form stays"})
    migration = importlib.import_module("rewards.migrations.0003_metadata_spec_keys")
    migration.forwards(apps, None)
    stored = dict(Reward.objects.values_list("pk", "metadata"))
    assert stored[shirt.pk] == {"sku": "S", "color": "navy"}
    assert stored[key.pk] == {"license_key": "K"}
    assert stored[coupon.pk] == {"coupon_code": "C", "expires_at": "2027-12-31"}
    assert stored[custom.pk] == {"colour": "free-form stays"}
    migration.backwards(apps, None)
    assert Reward.objects.get(pk=shirt.pk).metadata == {"sku": "S", "colour": "navy"}
