"""Reads of the rewards app. Views and the admin fetch through these; nothing here writes."""

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from engagement.models import Member
from rewards.models import Redemption, Reward


def rewards_on_sale(*, at: datetime, upcoming: bool = False) -> QuerySet[Reward]:
    """What members may redeem now: active, not sold out, inside the availability window.

    ``upcoming``: also the active, in-stock rewards whose window has not opened yet (a store shows
    them with "starts in"), never the ended ones."""
    opened = Q(available_from__isnull=True) | Q(available_from__lte=at)
    return Reward.objects.filter(
        Q(stock__isnull=True) | Q(stock__gt=0),
        Q() if upcoming else opened,
        Q(available_until__isnull=True) | Q(available_until__gt=at),
        active=True,
    ).order_by("cost_points", "name", "id")


def redemptions_held(*, member: Member, rewards) -> dict[int, int]:
    """{reward id: the member's non-rejected redemptions} for the given rewards that have a per-member
    limit (the count ``redeem`` judges ``max_per_member`` by). One query, none without such rewards."""
    limited = [reward.pk for reward in rewards if reward.max_per_member is not None]
    if not limited:
        return {}
    rows = (Redemption.objects.filter(member=member, reward_id__in=limited).exclude(status=Redemption.Status.REJECTED)
            .values("reward_id").annotate(n=Count("id")).values_list("reward_id", "n"))
    return dict(rows)


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
