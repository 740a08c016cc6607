"""Campaigns: time-boxed multipliers on awards, applied inside the award's transaction."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from engagement import ledger_sql
from engagement.models import Campaign


@dataclass(frozen=True)
class Boost:
    campaign: Campaign
    points: int
    xp: int

    @property
    def meta(self) -> dict:
        c = self.campaign
        return {"id": c.pk, "name": c.name, "points_multiplier": str(c.points_multiplier),
                "xp_multiplier": str(c.xp_multiplier)}


def running(*, reason: str, at: datetime, probed: bool = False) -> list[Campaign]:
    """Active campaigns boosting ``reason`` at ``at``. Usually none, and that costs one indexed probe
    (``probed``: the caller's probe already found one running, as award's first statement does)."""
    if not probed and not ledger_sql.any_campaign_running(at):
        return []
    live = list(Campaign.objects.filter(active=True, starts_at__lte=at, ends_at__gt=at))
    if not live:
        return []
    return [c for c in live if _targets(c, reason)]


def _targets(campaign: Campaign, reason: str) -> bool:
    reasons = campaign.reasons if isinstance(campaign.reasons, list) else []  # admin clean() enforces a list
    return reason in reasons or any(rule.reason == reason for rule in campaign.rules.all())


def _times(amount: int, multiplier: Decimal) -> int:
    return int((Decimal(amount) * multiplier).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def boost(*, reason: str, points: int, xp: int, at: datetime, probed: bool = False) -> Boost | None:
    """The amounts after the best running campaign for ``reason`` (campaigns do not stack), or None."""
    campaigns = running(reason=reason, at=at, probed=probed)
    if not campaigns:
        return None
    best = max(campaigns, key=lambda c: (c.points_multiplier, c.xp_multiplier, -c.pk))
    return Boost(best, _times(points, best.points_multiplier), _times(xp, best.xp_multiplier))
