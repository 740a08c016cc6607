"""Leaderboards read from the ledger (scoped and windowed) or from the cached balances (all-time).

Ranking is standard competition ranking: equal values share a rank and the next rank skips (1, 2, 2, 4).
Members who opted out are neither listed nor counted in anybody's rank.

Scoped boards (an activity and/or a window) sum the entries in scope, except redemption spending and its
refunds: buying a reward should not push somebody down this week's board. The ``level`` metric on a
scoped board is the level that the XP earned in scope would give.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Sum
from django.utils import timezone

from engagement import levels
from engagement.models import Activity, LedgerEntry, Member
from engagement.services import day_bounds

METRICS = ("points", "xp", "level")
WINDOWS = ("all", "day", "week", "month")
SPENDING_REASONS = ("redeem", "redeem_refund", "spend", "refund")


@dataclass
class Row:
    rank: int
    member: Member
    value: int
    points: int
    xp: int
    level: int


@dataclass
class Board:
    metric: str
    window: str
    activity: Activity | None
    items: list[Row] = field(default_factory=list)
    me: Row | None = None


def window_start(window: str, at: datetime | None = None) -> datetime | None:
    """Start of the calendar day, ISO week or month containing ``at``, in the project time zone."""
    if window == "all":
        return None
    start, _ = day_bounds(at or timezone.now())
    if window == "week":
        start = day_bounds(start - timedelta(days=start.weekday()))[0]
    elif window == "month":
        start = day_bounds(start.replace(day=1))[0]
    return start


def _competition_ranks(values: list[int], first_rank: int) -> list[int]:
    ranks, previous = [], None
    for position, value in enumerate(values):
        if value != previous:
            rank = first_rank + position
            previous = value
        ranks.append(rank)
    return ranks


def _scoped_totals(*, metric: str, activity: Activity | None, since: datetime | None):
    qs = LedgerEntry.objects.exclude(reason__in=SPENDING_REASONS).filter(member__show_on_leaderboard=True)
    if activity is not None:
        qs = qs.filter(activity=activity)
    if since is not None:
        qs = qs.filter(created__gte=since)
    column = "xp" if metric in ("xp", "level") else "points"
    return qs.values("member_id").annotate(value=Sum(column), s_points=Sum("points"), s_xp=Sum("xp"))


def _scoped_board(board: Board, *, limit: int, viewer: Member | None, since: datetime | None) -> Board:
    totals = _scoped_totals(metric=board.metric, activity=board.activity, since=since).filter(value__gt=0)
    top = list(totals.order_by("-value", "member_id")[:limit])
    members = Member.objects.select_related("user").in_bulk([t["member_id"] for t in top])
    ranks = _competition_ranks([t["value"] for t in top], 1)

    def to_row(rank: int, total: dict, member: Member) -> Row:
        value = levels.level_for_xp(total["value"]) if board.metric == "level" else total["value"]
        return Row(rank, member, value, total["s_points"], total["s_xp"], member.level)

    board.items = [to_row(r, t, members[t["member_id"]]) for r, t in zip(ranks, top, strict=True)]
    if viewer is not None:
        mine = totals.filter(member_id=viewer.pk).first()
        if mine is not None:
            above = totals.filter(value__gt=mine["value"]).count()
            board.me = to_row(above + 1, mine, viewer)
    return board


def _global_board(board: Board, *, limit: int, viewer: Member | None) -> Board:
    column = board.metric
    visible = Member.objects.filter(show_on_leaderboard=True)
    top = list(visible.select_related("user").order_by(F(column).desc(), "id")[:limit])
    ranks = _competition_ranks([getattr(m, column) for m in top], 1)
    board.items = [Row(r, m, getattr(m, column), m.points, m.xp, m.level) for r, m in zip(ranks, top, strict=True)]
    if viewer is not None:
        value = getattr(viewer, column)
        above = visible.filter(**{f"{column}__gt": value}).exclude(pk=viewer.pk).count()
        board.me = Row(above + 1, viewer, value, viewer.points, viewer.xp, viewer.level)
    return board


def leaderboard(
    *,
    metric: str = "points",
    activity: Activity | None = None,
    window: str = "all",
    limit: int = 20,
    viewer: Member | None = None,
    at: datetime | None = None,
) -> Board:
    board = Board(metric=metric, window=window, activity=activity)
    since = window_start(window, at)
    if activity is None and since is None:
        return _global_board(board, limit=limit, viewer=viewer)
    return _scoped_board(board, limit=limit, viewer=viewer, since=since)


def activity_balance(*, member: Member, activity: Activity) -> int:
    return LedgerEntry.objects.filter(member=member, activity=activity).aggregate(s=Sum("points"))["s"] or 0


def reason_counts(*, member: Member) -> dict[str, int]:
    """How many entries of each reason a member has (the contract's achievement counters)."""
    rows = LedgerEntry.objects.filter(member=member).values("reason").annotate(n=Count("id"))
    return {row["reason"]: row["n"] for row in rows}



