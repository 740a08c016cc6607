"""Fixtures of the rewards tests: rewards from the presets, members with points, the unlocked redeem of the
negative controls."""

import copy
import threading

import pytest
from django.contrib.auth.models import Permission

from engagement import services as ledger
from engagement.models import Member
from rewards import services
from rewards.models import Reward
from rewards.presets import PRESETS


@pytest.fixture
def make_reward(db):
    def make(type: str = "merch_physical", **fields) -> Reward:
        values = {**copy.deepcopy(PRESETS[type]), "stock": None, **fields}
        return Reward.objects.create(**values)

    return make


@pytest.fixture
def fund():
    def give(member, points: int):
        ledger.award(member=member, reason="test_fund", points=points, xp=0)
        member.refresh_from_db()
        return member

    return give


@pytest.fixture
def rich_member(member, fund):
    return fund(member, 1000)


@pytest.fixture
def tshirt(make_reward):
    return make_reward("merch_physical", cost_points=60, stock=5)


@pytest.fixture
def grant():
    def add(user, *codenames: str):
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return user

    return add


@pytest.fixture
def unlocked_redeem(monkeypatch):
    """The check-then-act race of a redemption, made deterministic for a negative control:
    ``redeem_sql.start`` without its row locks, and the per-member check ``rewards.services.<check_name>``
    held until ``threads`` requests have all passed it, so everyone checks before anyone writes."""

    def unlock(check_name: str, *, threads: int) -> None:
        barrier, check = threading.Barrier(threads), getattr(services, check_name)

        def check_then_wait(member, reward):
            check(member, reward)
            barrier.wait(timeout=30)

        def unlocked_start(*, member_id, reward_id, key):
            return Member.objects.get(pk=member_id), Reward.objects.get(pk=reward_id), None

        monkeypatch.setattr(services.redeem_sql, "start", unlocked_start)
        monkeypatch.setattr(services, check_name, check_then_wait)

    return unlock
