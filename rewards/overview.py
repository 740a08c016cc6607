"""Read-only figures for the admin's engagement overview page (ledger and redemptions, never written)."""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils import timezone

from engagement.models import LedgerEntry, Member
from rewards.models import Redemption

REFUND_REASON = "redeem_refund"


def redemptions_per_day(*, at: datetime, days: int = 30) -> list[dict]:
    """Per calendar day (project time zone): redemptions made, and how many of them are still pending."""
    tz = timezone.get_current_timezone()
    rows = (
        Redemption.objects.filter(created__gte=at - timedelta(days=days)).order_by()
        .annotate(day=TruncDate("created", tzinfo=tz)).values("day")
        .annotate(total=Count("id"), pending=Count("id", filter=Q(status=Redemption.Status.PENDING)),
                  rejected=Count("id", filter=Q(status=Redemption.Status.REJECTED)),
                  points=Coalesce(Sum("cost_points"), 0))
        .order_by("day")
    )
    return _with_bars(list(rows), "total")


def points_per_week(*, at: datetime, weeks: int = 12) -> list[dict]:
    """Points issued vs spent per week. Refunds are netted against spending rather than counted as
    issued, so a rejected redemption does not look like inflation."""
    tz = timezone.get_current_timezone()
    rows = (
        LedgerEntry.objects.filter(created__gte=at - timedelta(weeks=weeks)).order_by()
        .annotate(week=TruncWeek("created", tzinfo=tz)).values("week")
        .annotate(
            issued=Coalesce(Sum("points", filter=Q(points__gt=0) & ~Q(reason=REFUND_REASON)), 0),
            removed=Coalesce(Sum("points", filter=Q(points__lt=0)), 0),
            refunded=Coalesce(Sum("points", filter=Q(reason=REFUND_REASON)), 0),
        )
        .order_by("week")
    )
    weeks_out = []
    for row in rows:
        spent = -row["removed"] - row["refunded"]
        weeks_out.append({"week": row["week"], "issued": row["issued"], "spent": spent,
                          "net": row["issued"] - spent,
                          "ratio": round(row["issued"] / spent, 2) if spent > 0 else None})
    return _with_bars(weeks_out, "issued")


def _with_bars(rows: list[dict], key: str) -> list[dict]:
    top = max((row[key] for row in rows), default=0) or 1
    for row in rows:
        row["bar"] = round(100 * row[key] / top)
    return rows


@dataclass(frozen=True)
class Velocity:
    member: Member
    earned: int
    times_median: float | None


def unusual_earners(*, at: datetime, days: int = 7, factor: float = 3.0, minimum: int = 50,
                    limit: int = 20) -> tuple[list[Velocity], float]:
    """Members whose earnings in the last ``days`` are at least ``factor`` × the median of everyone who
    earned in that window (and at least ``minimum`` points, so a quiet week does not flag 3 vs 1).

    Returns (flagged members, the median). The median is taken over earners only: counting idle
    members would push it to zero and flag everyone who earned anything.
    """
    rows = list(
        LedgerEntry.objects.filter(created__gte=at - timedelta(days=days), points__gt=0)
        .exclude(reason=REFUND_REASON).order_by().values("member_id").annotate(earned=Sum("points"))
    )
    if not rows:
        return [], 0.0
    median = float(statistics.median(row["earned"] for row in rows))
    threshold = max(median * factor, minimum)
    flagged = sorted((row for row in rows if row["earned"] >= threshold), key=lambda row: -row["earned"])[:limit]
    members = Member.objects.select_related("user").in_bulk([row["member_id"] for row in flagged])
    return [
        Velocity(member=members[row["member_id"]], earned=row["earned"],
                 times_median=round(row["earned"] / median, 1) if median else None)
        for row in flagged
    ], median
