"""Reads of the rewards app. Views and the admin fetch through these; nothing here writes."""

from datetime import datetime

from django.db.models import Q, QuerySet

from engagement.models import Member
from rewards.models import Redemption, Reward


def rewards_on_sale(*, at: datetime) -> QuerySet[Reward]:
    """What members may redeem now: active, not sold out, inside the availability window."""
    return Reward.objects.filter(
        Q(stock__isnull=True) | Q(stock__gt=0),
        Q(available_from__isnull=True) | Q(available_from__lte=at),
        Q(available_until__isnull=True) | Q(available_until__gt=at),
        active=True,
    ).order_by("cost_points", "name", "id")


def rewards_for_admin(*, active: bool | None = None) -> QuerySet[Reward]:
    qs = Reward.objects.order_by("-active", "cost_points", "name", "id")
    return qs if active is None else qs.filter(active=active)


def redemptions_of(*, member: Member) -> QuerySet[Redemption]:
    return Redemption.objects.filter(member=member).select_related("reward").order_by("-created", "-id")


def redemptions_for_admin(*, status: str | None = None) -> QuerySet[Redemption]:
    qs = Redemption.objects.select_related("reward", "member__user", "decided_by", "fulfilled_by")
    qs = qs.order_by("-created", "-id")
    return qs if not status else qs.filter(status=status)


def redemption_for_key(*, member: Member, key: str | None) -> Redemption | None:
    if not key:
        return None
    return Redemption.objects.filter(member=member, idempotency_key=key).first()
