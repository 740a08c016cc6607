"""Leaderboards: metric (points, xp, level) × scope (everything or one activity) × window (all, day,
week, month: calendar periods in the project time zone).

Ranking is standard competition ranking: equal values share a rank and the next rank skips (1, 2, 2, 4);
ties are listed by member id. A member is on a board when their points (or XP, for the xp and level
boards) in its scope are above zero; opted-out and banned members are neither listed nor counted.

The global all-time board ranks the members' balances. Scoped and windowed boards rank what was
earned there; spending on rewards and its refunds do not count. ``level`` ranks by the level that
the XP on the board gives (members of one level tie), listing higher XP first.

PostgreSQL (or SQLite) is the source of truth: ``LeaderboardTotal`` rows, kept in the ledger's own
transaction, make every board an index range. With ENGAGEMENT_LEADERBOARD_REDIS the same boards are
read from Redis sorted sets, written after commit; when Redis is down or its index is not built, the
SQL path answers and the caller never sees an error.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Sum
from django.utils import timezone

from engagement import levels
from engagement.leaderboards import redis_index
from engagement.leaderboards.periods import PERIOD_OF_WINDOW, WINDOWS, local_day, period_start, window_start
from engagement.leaderboards.rows import RowMember, row_member_of
from engagement.leaderboards.seasons import StandingSource
from engagement.leaderboards.sql import SqlSource
from engagement.models import Activity, LedgerEntry, Member, Season
from engagement.models.leaderboard import LeaderboardTotal

log = logging.getLogger(__name__)
METRICS = ("points", "xp", "level")
__all__ = ["METRICS", "WINDOWS", "Board", "Row", "leaderboard", "window_start"]


@dataclass
class Row:
    rank: int
    member: RowMember  # plain display values (pk, user_id, display_name, …), not a model instance
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
    source: str = "sql"
    season: Season | None = None


def competition_ranks(values: list[int], first_rank: int = 1) -> list[int]:
    ranks, previous, rank = [], None, first_rank
    for position, value in enumerate(values):
        if value != previous:
            rank = first_rank + position
            previous = value
        ranks.append(rank)
    return ranks


class _Spec:
    """One board's coordinates, and how its base values (points or XP) become rows."""

    def __init__(self, *, metric: str, activity: Activity | None, window: str, at: datetime | None,
                 season: Season | None = None):
        self.metric = metric
        self.base = "xp" if metric in ("xp", "level") else "points"
        self.scope = activity.pk if activity is not None else 0
        self.period = PERIOD_OF_WINDOW.get(window, LeaderboardTotal.Period.ALL)
        self.is_global = self.scope == 0 and window == "all" and season is None
        self.start = None if self.is_global else period_start(self.period, local_day(at or timezone.now()))
        if season is not None:  # a season is a period of its own, whose rows start on its first day
            self.period, self.start = LeaderboardTotal.Period.SEASON, season.starts

    def value(self, base_value: int) -> int:
        return levels.level_for_xp(base_value) if self.metric == "level" else base_value

    def row(self, rank: int, base_value: int, other_value: int, member: RowMember,
            balances: tuple[int, int] | None) -> Row:
        if self.is_global:
            points, xp = balances
        else:
            points, xp = (base_value, other_value) if self.base == "points" else (other_value, base_value)
        return Row(rank, member, self.value(base_value), points, xp, member.level)


def _above(source, spec: _Spec, base_value: int) -> int:
    if spec.metric != "level":
        return source.count_above(base_value)
    level = levels.level_for_xp(base_value)
    if level >= levels.level_cap():
        return 0
    return source.count_at_least(levels.xp_for_level(level + 1))


def _fill(board: Board, source, spec: _Spec, *, limit: int, viewer: Member | None) -> Board:
    top = source.rows(limit) if limit > 0 else []
    ranks = competition_ranks([spec.value(base) for base, _, _, _ in top])
    board.items = [spec.row(rank, *row) for rank, row in zip(ranks, top, strict=True)]
    if viewer is not None and viewer.listed:
        mine = source.member_values(viewer.pk)
        if mine is not None:
            board.me = spec.row(_above(source, spec, mine[0]) + 1, *mine, row_member_of(viewer),
                                (viewer.points, viewer.xp))
    return board


def leaderboard(
    *,
    metric: str = "points",
    activity: Activity | None = None,
    window: str = "all",
    limit: int = 20,
    viewer: Member | None = None,
    at: datetime | None = None,
    use_redis: bool | None = None,
    season: Season | None = None,
) -> Board:
    """The top ``limit`` rows of a board and the viewer's own row (``me``; None when not on it).

    ``at`` picks the day/week/month (default now); boards of past periods always come from SQL.
    ``use_redis`` forces a source (tests, benchmarks); by default Redis when enabled and ready.
    ``season`` (with window "all") ranks what was earned in the season, always from SQL; a frozen
    season's points board over everything is its SeasonStanding rows.
    """
    if metric not in METRICS or window not in WINDOWS or (season is not None and window != "all"):
        raise ValueError(f"unknown metric {metric!r} or window {window!r}, or a season with a window")
    spec = _Spec(metric=metric, activity=activity, window=window, at=at, season=season)
    coords = {"scope": spec.scope, "period": spec.period, "start": spec.start, "base": spec.base}
    if season is not None:
        board = Board(metric=metric, window=window, activity=activity, season=season)
        return _fill(board, season_source(season, spec, coords), spec, limit=limit, viewer=viewer)
    if use_redis is None:
        use_redis = at is None and redis_index.enabled()
    if use_redis:
        try:
            if redis_index.is_ready():
                board = Board(metric=metric, window=window, activity=activity, source="redis")
                return _fill(board, redis_index.RedisSource(**coords), spec, limit=limit, viewer=viewer)
        except redis_index.redis.RedisError as exc:
            log.warning("Leaderboard from SQL: Redis failed (%s)", exc)
    board = Board(metric=metric, window=window, activity=activity)
    return _fill(board, SqlSource(**coords), spec, limit=limit, viewer=viewer)


def season_source(season: Season, spec: _Spec, coords: dict):
    if season.frozen_at is not None and spec.scope == 0:
        return StandingSource(season_id=season.pk, base=spec.base)
    return SqlSource(**coords)


def activity_balance(*, member: Member, activity: Activity) -> int:
    return LedgerEntry.objects.filter(member=member, activity=activity).aggregate(s=Sum("points"))["s"] or 0


def reason_counts(*, member: Member) -> dict[str, int]:
    """How many entries of each reason a member has (the contract's achievement counters)."""
    rows = LedgerEntry.objects.filter(member=member).values("reason").annotate(n=Count("id")).order_by()
    return {row["reason"]: row["n"] for row in rows}
