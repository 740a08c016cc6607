from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from engagement.errors import IdempotencyConflict, InsufficientPoints
from engagement.models import LedgerEntry, Member
from rewards import services
from rewards.errors import AlreadyRedeemed, OutOfStock, RewardNotFound, RewardUnavailable
from rewards.models import Redemption, Reward

pytestmark = pytest.mark.django_db


def test_redeeming_spends_points_takes_stock_and_links_the_ledger_entry(rich_member, tshirt):
    redemption = services.redeem(member=rich_member, reward_id=tshirt.pk)
    tshirt.refresh_from_db()
    assert redemption.status == "pending" and redemption.cost_points == 60 and redemption.took_stock
    assert tshirt.stock == 4
    assert rich_member.points == 940 == Member.objects.get(pk=rich_member.pk).points
    entry = redemption.spend_entry
    assert (entry.points, entry.reason, entry.meta["reward_id"]) == (-60, "redeem", tshirt.pk)


def test_unlimited_stock_stays_unlimited(rich_member, make_reward):
    reward = make_reward("merch_digital", stock=None)
    redemption = services.redeem(member=rich_member, reward_id=reward.pk)
    reward.refresh_from_db()
    assert reward.stock is None and not redemption.took_stock


def test_not_enough_points_is_refused_and_nothing_changes(member, fund, tshirt):
    fund(member, 59)
    with pytest.raises(InsufficientPoints) as info:
        services.redeem(member=member, reward_id=tshirt.pk)
    assert info.value.code == "insufficient_points" and info.value.status_code == 409
    tshirt.refresh_from_db()
    assert tshirt.stock == 5 and not Redemption.objects.exists()
    assert Member.objects.get(pk=member.pk).points == 59


def test_out_of_stock_is_refused_and_the_points_stay(rich_member, make_reward):
    reward = make_reward("merch_physical", stock=0)
    with pytest.raises(OutOfStock):
        services.redeem(member=rich_member, reward_id=reward.pk)
    assert Member.objects.get(pk=rich_member.pk).points == 1000
    assert not LedgerEntry.objects.filter(reason="redeem").exists()


def test_the_last_unit_goes_once(rich_member, make_reward, make_user, fund):
    reward = make_reward("merch_physical", stock=1)
    services.redeem(member=rich_member, reward_id=reward.pk)
    other = fund(Member.objects.get(user=make_user("bob")), 1000)
    with pytest.raises(OutOfStock):
        services.redeem(member=other, reward_id=reward.pk)
    assert Member.objects.get(pk=other.pk).points == 1000


def test_stock_sold_out_between_read_and_update_rolls_the_spend_back(rich_member, tshirt, monkeypatch):
    # The early check saw stock; the conditional UPDATE (the real guard) finds none left.
    Reward.objects.filter(pk=tshirt.pk).update(stock=0)
    monkeypatch.setattr(services, "_available_reward", lambda reward_id, at: tshirt)
    with pytest.raises(OutOfStock):
        services.redeem(member=rich_member, reward_id=tshirt.pk)
    assert Member.objects.get(pk=rich_member.pk).points == 1000
    assert not LedgerEntry.objects.filter(reason="redeem").exists()


def test_unknown_reward_is_not_found(rich_member):
    with pytest.raises(RewardNotFound) as info:
        services.redeem(member=rich_member, reward_id=999_999)
    assert info.value.status_code == 404


@pytest.mark.parametrize(("window", "code"), [
    ({"active": False}, "reward_unavailable"),
    ({"available_from": timezone.now() + timedelta(days=1)}, "reward_not_yet_available"),
    ({"available_until": timezone.now() - timedelta(seconds=1)}, "reward_expired"),
])
def test_inactive_or_out_of_window_rewards_are_unavailable(rich_member, make_reward, window, code):
    reward = make_reward("merch_physical", **window)
    with pytest.raises(RewardUnavailable) as info:
        services.redeem(member=rich_member, reward_id=reward.pk)
    assert info.value.code == code


def test_available_window_is_judged_at_the_given_time(rich_member, make_reward):
    start = timezone.now() + timedelta(days=1)
    reward = make_reward("merch_physical", available_from=start, available_until=start + timedelta(days=1))
    redemption = services.redeem(member=rich_member, reward_id=reward.pk, at=start + timedelta(hours=1))
    assert redemption.created == start + timedelta(hours=1)


def test_static_avatar_is_applied_and_approved_at_once(rich_member, make_reward):
    reward = make_reward("avatar_static")
    redemption = services.redeem(member=rich_member, reward_id=reward.pk)
    assert redemption.status == "approved" and redemption.decided_at is not None
    assert Member.objects.get(pk=rich_member.pk).avatar_url == reward.metadata["avatar_url"]
    assert rich_member.avatar_url == reward.metadata["avatar_url"]


def test_animated_avatar_is_applied_and_approved_at_once(rich_member, make_reward):
    reward = make_reward("avatar_animated")
    assert services.redeem(member=rich_member, reward_id=reward.pk).status == "approved"
    assert Member.objects.get(pk=rich_member.pk).animated_avatar_url == reward.metadata["animated_avatar_url"]


def test_misconfigured_avatar_reward_is_refused_without_spending(rich_member, make_reward):
    reward = make_reward("avatar_static")
    Reward.objects.filter(pk=reward.pk).update(metadata={})  # bypassing validation, as a raw SQL edit would
    with pytest.raises(RewardUnavailable):
        services.redeem(member=rich_member, reward_id=reward.pk)
    assert Member.objects.get(pk=rich_member.pk).points == 1000


def test_upload_unlock_sets_the_flag_and_is_sold_once_per_member(rich_member, make_reward):
    reward = make_reward("avatar_upload_unlock")
    assert services.redeem(member=rich_member, reward_id=reward.pk).status == "approved"
    assert Member.objects.get(pk=rich_member.pk).avatar_upload_unlocked
    with pytest.raises(AlreadyRedeemed) as info:
        services.redeem(member=rich_member, reward_id=reward.pk)
    assert info.value.code == "already_redeemed" and info.value.status_code == 409
    assert Member.objects.get(pk=rich_member.pk).points == 800


def test_upload_unlock_is_refused_to_a_member_unlocked_by_other_means(rich_member, make_reward):
    Member.objects.filter(pk=rich_member.pk).update(avatar_upload_unlocked=True)
    with pytest.raises(AlreadyRedeemed):
        services.redeem(member=rich_member, reward_id=make_reward("avatar_upload_unlock").pk)


def test_the_database_refuses_a_second_unlock_even_without_the_service(rich_member, make_reward):
    reward = make_reward("avatar_upload_unlock")
    first = services.redeem(member=rich_member, reward_id=reward.pk)
    with pytest.raises(IntegrityError):
        Redemption.objects.create(member=rich_member, reward=reward, reward_type=reward.type, cost_points=200,
                                  spend_entry=first.spend_entry, status="approved")


@pytest.mark.parametrize("reward_type", ["merch_coupon", "merch_physical", "merch_digital", "custom"])
def test_merch_and_custom_wait_for_an_admin(rich_member, make_reward, reward_type):
    redemption = services.redeem(member=rich_member, reward_id=make_reward(reward_type).pk)
    assert redemption.status == "pending" and redemption.decided_at is None


def test_a_retry_with_the_same_key_returns_the_first_redemption(rich_member, tshirt):
    first = services.redeem(member=rich_member, reward_id=tshirt.pk, idempotency_key="k-1")
    again = services.redeem(member=rich_member, reward_id=tshirt.pk, idempotency_key="k-1")
    assert again.pk == first.pk and again.replayed and not first.replayed
    tshirt.refresh_from_db()
    assert tshirt.stock == 4 and Member.objects.get(pk=rich_member.pk).points == 940
    assert LedgerEntry.objects.filter(reason="redeem").count() == 1


def test_the_same_key_for_another_reward_is_a_conflict(rich_member, tshirt, make_reward):
    services.redeem(member=rich_member, reward_id=tshirt.pk, idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict) as info:
        services.redeem(member=rich_member, reward_id=make_reward("merch_digital").pk, idempotency_key="k-1")
    assert info.value.status_code == 409


def test_keys_are_per_member(rich_member, tshirt, make_user, fund):
    other = fund(Member.objects.get(user=make_user("bob")), 100)
    mine = services.redeem(member=rich_member, reward_id=tshirt.pk, idempotency_key="same")
    theirs = services.redeem(member=other, reward_id=tshirt.pk, idempotency_key="same")
    assert mine.pk != theirs.pk and not theirs.replayed


def test_a_failed_attempt_does_not_burn_the_key(member, fund, tshirt):
    fund(member, 10)
    with pytest.raises(InsufficientPoints):
        services.redeem(member=member, reward_id=tshirt.pk, idempotency_key="k")
    fund(member, 100)
    assert services.redeem(member=member, reward_id=tshirt.pk, idempotency_key="k").replayed is False


def test_save_reward_validates_like_the_admin_form(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        services.save_reward(name="Bad", type="merch_physical", cost_points=10, metadata={"colour": "red"})
    assert "sku" in str(info.value)


def test_database_refuses_negative_stock_and_free_rewards(make_reward):
    from django.db import transaction

    reward = make_reward("merch_digital")
    for change in ({"stock": -1}, {"cost_points": 0}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Reward.objects.filter(pk=reward.pk).update(**change)


def test_batch_creation_fills_avatar_urls_from_the_template(db):
    created = services.create_batch(name_template="Bot {i}", url_template="https://robohash.org/{i}.png", count=3,
                                    start=7, type="avatar_static", cost_points=20, stock=None, active=True)
    assert [r.name for r in created] == ["Bot 7", "Bot 8", "Bot 9"]
    assert created[2].metadata == {"avatar_url": "https://robohash.org/9.png"} == {"avatar_url": created[2].image_url}


def test_deleting_a_reward_with_redemptions_deactivates_it(rich_member, tshirt, make_reward):
    services.redeem(member=rich_member, reward_id=tshirt.pk)
    assert services.delete_reward(reward=tshirt) is False
    tshirt.refresh_from_db()
    assert tshirt.active is False
    unused = make_reward("custom")
    assert services.delete_reward(reward=unused) is True and not Reward.objects.filter(pk=unused.pk).exists()
