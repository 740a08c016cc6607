import pytest
from django.core.management import call_command

from engagement import demo as engagement_demo
from rewards import demo
from rewards.models import Redemption, Reward

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_every_reward_type_and_a_pending_redemption_once():
    engagement_demo.seed()
    first = demo.seed()
    again = demo.seed()
    assert set(Reward.objects.values_list("type", flat=True)) == set(Reward.Type.values)
    assert Reward.objects.count() == len(first["rewards"])
    pending = Redemption.objects.get()
    assert (pending.member.user.username, pending.status) == ("alice", "pending")
    assert again["pending"].pk == pending.pk and again["pending"].replayed
    for reward in Reward.objects.all():
        reward.full_clean()  # every demo reward passes the same validation as the admin form
    call_command("verify_ledger", "--no-progress")
