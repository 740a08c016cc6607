import pytest

from engagement.models import LedgerEntry, Member
from rewards import services
from rewards.errors import InvalidTransition, RedemptionNotFound
from rewards.models import Redemption, Reward

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(rich_member, tshirt):
    return services.redeem(member=rich_member, reward_id=tshirt.pk)


def test_approve_records_who_and_when(pending, admin_user):
    redemption = services.approve(redemption_id=pending.pk, actor=admin_user, note="ok")
    assert (redemption.status, redemption.decided_by, redemption.note) == ("approved", admin_user, "ok")
    assert redemption.decided_at is not None


def test_fulfil_after_approve_records_who_and_when(pending, admin_user):
    services.approve(redemption_id=pending.pk, actor=admin_user)
    redemption = services.fulfil(redemption_id=pending.pk, actor=admin_user)
    assert redemption.status == "fulfilled" and redemption.fulfilled_by == admin_user
    assert redemption.fulfilled_at is not None and redemption.decided_by == admin_user


def test_reject_refunds_the_points_and_restores_the_stock(pending, admin_user, rich_member, tshirt):
    redemption = services.reject(redemption_id=pending.pk, actor=admin_user, note="size gone")
    tshirt.refresh_from_db()
    assert redemption.status == "rejected" and tshirt.stock == 5
    assert Member.objects.get(pk=rich_member.pk).points == 1000
    refund = Redemption.objects.get(pk=pending.pk).refund_entry
    assert (refund.points, refund.reason, refund.actor) == (60, "redeem_refund", admin_user)
    assert refund.idempotency_key == f"redeem_refund:{pending.pk}"


def test_reject_of_an_unlimited_reward_leaves_it_unlimited(rich_member, make_reward, admin_user):
    reward = make_reward("merch_digital", stock=None)
    redemption = services.redeem(member=rich_member, reward_id=reward.pk)
    services.reject(redemption_id=redemption.pk, actor=admin_user)
    assert Reward.objects.get(pk=reward.pk).stock is None


def test_a_reward_made_unlimited_meanwhile_stays_unlimited_on_reject(pending, tshirt, admin_user):
    Reward.objects.filter(pk=tshirt.pk).update(stock=None)
    services.reject(redemption_id=pending.pk, actor=admin_user)
    assert Reward.objects.get(pk=tshirt.pk).stock is None


@pytest.mark.parametrize(("first", "then"), [
    ("approve", "reject"), ("approve", "approve"), ("reject", "approve"), ("reject", "reject"),
    ("reject", "fulfil"),
])
def test_illegal_transitions_are_409_and_change_nothing(pending, admin_user, first, then):
    services.ACTIONS[first](redemption_id=pending.pk, actor=admin_user)
    before = Redemption.objects.get(pk=pending.pk)
    with pytest.raises(InvalidTransition) as info:
        services.ACTIONS[then](redemption_id=pending.pk, actor=admin_user)
    assert info.value.code == "invalid_transition" and info.value.status_code == 409
    after = Redemption.objects.get(pk=pending.pk)
    assert (after.status, after.decided_at) == (before.status, before.decided_at)


def test_pending_cannot_be_fulfilled_directly(pending, admin_user):
    with pytest.raises(InvalidTransition):
        services.fulfil(redemption_id=pending.pk, actor=admin_user)


def test_fulfilled_cannot_be_rejected_and_nothing_is_refunded(pending, admin_user):
    services.approve(redemption_id=pending.pk, actor=admin_user)
    services.fulfil(redemption_id=pending.pk, actor=admin_user)
    with pytest.raises(InvalidTransition):
        services.reject(redemption_id=pending.pk, actor=admin_user)
    assert not LedgerEntry.objects.filter(reason="redeem_refund").exists()


def test_a_second_reject_does_not_refund_again(pending, admin_user, rich_member, tshirt):
    services.reject(redemption_id=pending.pk, actor=admin_user)
    with pytest.raises(InvalidTransition):
        services.reject(redemption_id=pending.pk, actor=admin_user)
    assert LedgerEntry.objects.filter(reason="redeem_refund").count() == 1
    assert Reward.objects.get(pk=tshirt.pk).stock == 5


def test_unknown_redemption_is_not_found(db, admin_user):
    with pytest.raises(RedemptionNotFound) as info:
        services.approve(redemption_id=424242, actor=admin_user)
    assert info.value.status_code == 404


def test_decide_many_counts_changes_and_explains_the_rest(rich_member, make_reward, admin_user):
    reward = make_reward("merch_coupon", stock=10)
    a, b, c = (services.redeem(member=rich_member, reward_id=reward.pk) for _ in range(3))
    services.approve(redemption_id=a.pk, actor=admin_user)
    result = services.decide_many(action="reject", redemption_ids=[a.pk, b.pk, c.pk, 999_999], actor=admin_user)
    assert result.changed == 2
    assert result.refused == {"already approved": 1, "redemption_not_found": 1}
    assert "1 already approved" in result.explain()
