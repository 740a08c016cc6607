"""Fixtures of the rewards tests: rewards from the presets, members with points."""

import copy

import pytest
from django.contrib.auth.models import Permission

from engagement import services as ledger
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
