"""Demo data of the rewards app (run by ``manage.py seed_demo`` after engagement's; idempotent)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from config.errors import DomainError
from engagement.services import member_for_user
from rewards import services
from rewards.models import Reward
from rewards.presets import PRESETS

# One reward of every type, plus a sold-out one so the catalogue's hiding rule is visible in the admin.
EXTRA = [
    {"name": "Signed match ball", "type": "merch_physical", "cost_points": 2000, "stock": 0,
     "metadata": {"sku": "BALL-SIGNED"}},
    {"name": "Season highlights (download)", "type": "merch_digital", "cost_points": 60, "stock": None,
     "metadata": {"download_url": "https://example.org/downloads/highlights.mp4", "license_key": "DEMO-1234"}},
]


def limited_time(at) -> list[dict]:
    """A limited-time offer (ends in three days, one per member) and an upcoming one, so the fan zone's
    countdowns and the admin's availability filter have something to show."""
    return [
        {"name": "Derby-day scarf", "type": "merch_physical", "cost_points": 40, "stock": 25, "max_per_member": 1,
         "available_until": at + timedelta(days=3), "metadata": {"sku": "SCARF-DERBY"}},
        {"name": "Winter jersey pre-order", "type": "merch_coupon", "cost_points": 90,
         "available_from": at + timedelta(days=2), "available_until": at + timedelta(days=9),
         "metadata": {"coupon_code": "WINTER15", "discount": "15%"}},
    ]


def seed() -> dict:
    rewards = {}
    for values in [*PRESETS.values(), *EXTRA, *limited_time(timezone.now())]:
        values = {"stock": None, **values}
        reward, _ = Reward.objects.get_or_create(name=values["name"], defaults=values)
        rewards[reward.name] = reward
    pending = None
    alice = get_user_model().objects.filter(username="alice").first()
    if alice is not None:
        coupon = rewards[PRESETS["merch_coupon"]["name"]]
        try:
            # The key makes a rerun return the same redemption instead of buying a second coupon.
            pending = services.redeem(member=member_for_user(alice), reward_id=coupon.pk,
                                      idempotency_key="demo:coupon")
        except DomainError:
            pass  # alice spent her demo points meanwhile; the demo works without the pending example
    return {"rewards": rewards, "pending": pending}
