"""An XP-only reward is owned once per member, however many redemptions of one member race
(PostgreSQL, real threads, committed transactions), with a negative control that removes both guards
(the member lock and the partial unique index) and shows the race happen."""


import pytest
from django.db import connection

from engagement import services as ledger
from engagement.models import Member
from rewards import services
from rewards.errors import AlreadyRedeemed
from rewards.models import Redemption
from tests.concurrency import postgres_only, run_concurrently

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
THREADS = 8


@pytest.fixture
def veteran(member):
    ledger.award(member=member, reason="test_fund", points=5, xp=1000)
    return member.pk


def _race(member_id: int, reward_id: int):
    return run_concurrently(
        lambda i: services.redeem(member=Member.objects.get(pk=member_id), reward_id=reward_id), threads=THREADS)


def test_racing_redemptions_of_an_xp_only_reward_give_one(veteran, make_reward):
    reward = make_reward("custom", cost_points=500, cost_type="xp", stock=None)
    results, errors = _race(veteran, reward.pk)
    assert len(results) == 1
    assert len(errors) == THREADS - 1 and all(isinstance(e, AlreadyRedeemed) for e in errors), errors[:3]
    assert Redemption.objects.count() == 1
    assert Member.objects.get(pk=veteran).points == 5  # nothing deducted


@pytest.fixture
def no_xp_constraint():
    constraint = next(c for c in Redemption._meta.constraints if c.name == "rewards_redemption_xp_once_per_member")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Redemption, constraint)
    yield
    Redemption.objects.all().delete()
    with connection.schema_editor() as editor:
        editor.add_constraint(Redemption, constraint)


def test_negative_control_without_lock_and_index_the_reward_is_owned_many_times(veteran, make_reward, unlocked_redeem,
                                                                                no_xp_constraint):
    reward = make_reward("custom", cost_points=500, cost_type="xp", stock=None)
    unlocked_redeem("_check_xp", threads=THREADS)
    results, errors = _race(veteran, reward.pk)
    assert errors == []
    assert Redemption.objects.count() == THREADS > 1
