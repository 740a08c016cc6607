"""Redemption invariants under real concurrency: PostgreSQL, real threads, committed transactions.

Each proof has a negative control that swaps the guard for a read-check-write with a barrier after
the check, and shows the race then really happens with this harness (oversold stock, double restock,
balance checks passed by everyone). A passing proof therefore means the guard works, not that the
threads never overlapped.
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError

from engagement import services as ledger
from engagement.errors import InsufficientPoints
from engagement.models import LedgerEntry, Member
from rewards import redeem_sql, services
from rewards.errors import InvalidTransition, OutOfStock
from rewards.models import Redemption, Reward
from tests.concurrency import postgres_only, run_concurrently

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def _members(count: int, points: int) -> list[int]:
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"racer-{i}", email=f"racer-{i}@example.org") for i in range(count))
    ids = []
    for user in users:
        member, _ = Member.objects.get_or_create(user=user)
        ledger.award(member=member, reason="test_fund", points=points, xp=0)
        ids.append(member.pk)
    return ids


def _redeem_as(member_ids: list[int], reward_id: int):
    def run(i: int) -> Redemption:
        return services.redeem(member=Member.objects.get(pk=member_ids[i % len(member_ids)]), reward_id=reward_id)

    return run


def _verify_ledger() -> None:
    call_command("verify_ledger", "--no-progress")  # raises CommandError on any mismatch


# --- Stock: N units are sold at most N times -------------------------------------------------------------


def test_fifty_members_racing_for_five_units_get_exactly_five(make_reward):
    reward = make_reward("merch_physical", cost_points=10, stock=5)
    results, errors = run_concurrently(_redeem_as(_members(50, 100), reward.pk), threads=50)
    assert len(results) == 5
    assert len(errors) == 45 and all(isinstance(e, OutOfStock) for e in errors), errors[:3]
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.count() == 5 == LedgerEntry.objects.filter(reason="redeem").count()
    assert Member.objects.filter(points=90).count() == 5 and Member.objects.filter(points=100).count() == 45
    _verify_ledger()


def test_negative_control_read_check_write_stock_oversells(make_reward, monkeypatch):
    threads = 10
    reward = make_reward("merch_physical", cost_points=10, stock=5)
    barrier = threading.Barrier(threads)

    def unguarded_take_stock(*, reward):
        left = Reward.objects.get(pk=reward.pk).stock
        if left == 0:
            raise OutOfStock("sold out")
        barrier.wait(timeout=30)  # everyone has checked before anyone writes
        Reward.objects.filter(pk=reward.pk).update(stock=left - 1)
        return True

    monkeypatch.setattr(services, "take_stock", unguarded_take_stock)
    results, errors = run_concurrently(_redeem_as(_members(threads, 100), reward.pk), threads=threads)
    assert errors == []
    assert Redemption.objects.count() == threads > 5  # oversold: ten units of a stock of five
    assert Reward.objects.get(pk=reward.pk).stock == 4  # and the counter lost nine decrements


# --- Points: a member's balance pays for at most what it holds ---------------------------------------------


def test_four_sixty_point_redemptions_on_a_hundred_points_give_exactly_one(make_reward):
    reward = make_reward("merch_digital", cost_points=60, stock=None)
    (member_id,) = _members(1, 100)
    results, errors = run_concurrently(_redeem_as([member_id], reward.pk), threads=4)
    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(e, InsufficientPoints) for e in errors), errors
    assert Member.objects.get(pk=member_id).points == 40
    assert Redemption.objects.count() == 1
    _verify_ledger()


def test_negative_control_without_the_member_lock_everyone_passes_the_balance_check(make_reward, monkeypatch):
    reward = make_reward("merch_digital", cost_points=60, stock=None)
    (member_id,) = _members(1, 100)
    barrier, seen = threading.Barrier(4), []

    def unlocked_start(*, member_id, reward_id, key):  # redeem_sql.start without FOR NO KEY UPDATE
        member = Member.objects.get(pk=member_id)
        seen.append(member.points)
        barrier.wait(timeout=30)  # every thread reads the balance before any of them spends
        return member, Reward.objects.get(pk=reward_id), None

    monkeypatch.setattr(redeem_sql, "start", unlocked_start)
    monkeypatch.setattr(ledger, "balance_guard", lambda points: False)
    results, errors = run_concurrently(_redeem_as([member_id], reward.pk), threads=4)
    # All four saw 100 points at the check that decides, so the application would have paid out four
    # times; only the database's CHECK (points >= 0) stopped it, as a crash (IntegrityError, a 500)
    # rather than a clean 409 insufficient_points.
    assert seen.count(100) == 4  # one read per thread (spend reuses redeem's), all of the full balance
    assert len(results) == 1 and len(errors) == 3
    assert all(isinstance(e, IntegrityError) for e in errors) and not any(
        isinstance(e, InsufficientPoints) for e in errors)


# --- Workflow: one decision wins, a refund happens at most once ------------------------------------------


def _pending(make_reward, count: int) -> tuple[Reward, list[Redemption]]:
    reward = make_reward("merch_physical", cost_points=50, stock=count)
    member = Member.objects.get(pk=_members(1, 50 * count)[0])
    return reward, [services.redeem(member=member, reward_id=reward.pk) for _ in range(count)]


def test_approve_racing_reject_has_exactly_one_winner_and_at_most_one_refund(make_reward, admin_user):
    reward, redemptions = _pending(make_reward, 5)
    for redemption in redemptions:
        def decide(i, pk=redemption.pk):
            action = services.approve if i % 2 == 0 else services.reject
            return action(redemption_id=pk, actor=admin_user)

        results, errors = run_concurrently(decide, threads=4)
        assert len(results) == 1 and len(errors) == 3 and all(isinstance(e, InvalidTransition) for e in errors)
        final = Redemption.objects.get(pk=redemption.pk)
        refunds = LedgerEntry.objects.filter(reason="redeem_refund", meta__redemption_id=redemption.pk).count()
        assert (final.status, refunds) in (("approved", 0), ("rejected", 1))
        assert final.status == results[0].status
    rejected = Redemption.objects.filter(status="rejected").count()
    assert Reward.objects.get(pk=reward.pk).stock == rejected  # each rejection gave back exactly its unit
    _verify_ledger()


def test_negative_control_read_check_write_transition_restocks_twice(make_reward, admin_user, monkeypatch):
    reward, (redemption,) = _pending(make_reward, 1)
    barrier = threading.Barrier(2)

    def unguarded_claim(*, redemption_id, action, actor, note, at):
        current = Redemption.objects.get(pk=redemption_id).status
        sources, target, _ = services.TRANSITIONS[action]
        if current not in sources:
            raise InvalidTransition("no")
        barrier.wait(timeout=30)  # both rejections have checked "pending" before either writes
        Redemption.objects.filter(pk=redemption_id).update(status=target, decided_at=at)
        return Redemption.objects.select_related("member", "reward").get(pk=redemption_id)

    monkeypatch.setattr(services, "_claim", unguarded_claim)
    results, errors = run_concurrently(
        lambda i: services.reject(redemption_id=redemption.pk, actor=admin_user), threads=2)
    assert errors == [] and len(results) == 2  # both "won"
    assert Reward.objects.get(pk=reward.pk).stock == 2  # one unit sold, two given back
    # The refund's idempotency key (derived from the redemption) held even here: one refund entry.
    assert LedgerEntry.objects.filter(reason="redeem_refund").count() == 1


# --- Replays: one key is one redemption, even when the replays wait on the first's member lock ---------


def _replay_one_key(member_id: int, reward_id: int):
    def run(i: int) -> Redemption:
        return services.redeem(member=Member.objects.get(pk=member_id), reward_id=reward_id, idempotency_key="k-1")

    return run


def test_concurrent_replays_of_one_key_get_the_one_redemption_even_for_the_last_unit(make_reward):
    # The redemption takes the last unit and all the points, so a replay whose first statement ran
    # before the first request committed would be refused (out of stock, not enough points) if the
    # key were not looked up again on the way out (services.redeem).
    reward = make_reward("merch_physical", cost_points=60, stock=1)
    member_id = _members(1, 60)[0]
    results, errors = run_concurrently(_replay_one_key(member_id, reward.pk), threads=8)
    assert errors == []
    assert len({r.pk for r in results}) == 1 and sum(not r.replayed for r in results) == 1
    assert Redemption.objects.count() == 1 == LedgerEntry.objects.filter(reason="redeem").count()
    assert Reward.objects.get(pk=reward.pk).stock == 0 and Member.objects.get(pk=member_id).points == 0
    _verify_ledger()


def test_negative_control_without_the_key_answer_replays_are_refused(make_reward, monkeypatch):
    monkeypatch.setattr(services, "_replayed", lambda **kwargs: None)
    reward = make_reward("merch_physical", cost_points=60, stock=1)
    member_id = _members(1, 60)[0]
    results, errors = run_concurrently(_replay_one_key(member_id, reward.pk), threads=8)
    assert len(results) == 1
    assert len(errors) == 7 and all(isinstance(e, OutOfStock | InsufficientPoints | IntegrityError)
                                    for e in errors), errors[:3]
