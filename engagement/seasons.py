"""Seasons: their state, their close (frozen standings, top-N prizes, frozen team board) and teams.

Locking rule: a close claims its season with a conditional UPDATE of ``frozen_at`` (the row stays
locked until the close commits), so of two closes at once the second waits and then finds the season
frozen. Everything the close writes is in that one transaction; prizes are ordinary ledger entries
(engagement.services.award) keyed per season and member, so even a replayed payment pays once.
A member's team membership is one row per (season, member), held unique by the database.
"""

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import NamedTuple

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Window
from django.db.models.functions import Rank
from django.utils import timezone
from django.utils.text import slugify

from engagement import conf, services
from engagement.errors import DomainError, MemberBanned
from engagement.leaderboards import histogram, index
from engagement.leaderboards.periods import local_day
from engagement.models import Activity, LeaderboardTotal, Member, Season, SeasonStanding, Team, TeamMembership
from engagement.models.ledger import listed_q

PRIZE_REASON = "season_prize"
# Entries of the season's last minutes may still be committing at midnight: close a little later.
CLOSE_GRACE = dt.timedelta(minutes=10)


class SeasonError(DomainError):
    """A season or team request was refused (code says why)."""


# --- Reads ---------------------------------------------------------------------------------------------


def today(at: dt.datetime | None = None) -> dt.date:
    return local_day(at or timezone.now())


def state(season: Season, at: dt.datetime | None = None) -> str:
    return season.state_on(today(at))


def current_season(at: dt.datetime | None = None) -> Season | None:
    """The active season (the latest started when seasons overlap), or None."""
    day = today(at)
    return Season.objects.filter(frozen_at__isnull=True, starts__lte=day, ends__gte=day).order_by("-starts").first()


def season_by_slug(slug: str) -> Season:
    season = Season.objects.filter(slug=slug).first()
    if season is None:
        raise SeasonError("No such season.", code="season_not_found", status_code=404)
    return season


def due_seasons(at: dt.datetime | None = None):
    """Seasons whose last day is over (with CLOSE_GRACE) and that are not frozen yet."""
    return Season.objects.filter(frozen_at__isnull=True, ends__lt=today((at or timezone.now()) - CLOSE_GRACE))


# --- Admin edits -------------------------------------------------------------------------------------------


@transaction.atomic
def save_season(*, season: Season, previous_starts: dt.date | None = None) -> Season:
    """Save a season and recompute its board from the day rows (it may start in the past, or have moved)."""
    if season.frozen_at is not None:
        raise SeasonError("A frozen season cannot be changed.", code="season_frozen", status_code=409)
    season.save()
    if previous_starts is not None and previous_starts != season.starts:
        LeaderboardTotal.objects.filter(period=LeaderboardTotal.Period.SEASON, start=previous_starts).delete()
        histogram.rebuild_boards(period=LeaderboardTotal.Period.SEASON, start=previous_starts)
    index.rebuild_season_totals(starts=season.starts, ends=season.ends)
    return season


# --- Close ---------------------------------------------------------------------------------------------------


@dataclass
class CloseResult:
    season: Season
    closed: bool  # False: already frozen by another close, or not over yet
    standings: int = 0
    prizes: int = 0


def _claim(season_id: int, *, now: dt.datetime) -> bool:
    """Freeze the season if nobody has; True when this close owns it. The UPDATE keeps the row locked
    until we commit, so a second close waits here and then updates nothing. (Negative-control seam.)"""
    return Season.objects.filter(pk=season_id, frozen_at__isnull=True).update(frozen_at=now) == 1


def _insert_standings(season: Season) -> int:
    rows = (
        LeaderboardTotal.objects.filter(scope=0, period=LeaderboardTotal.Period.SEASON, start=season.starts,
                                        points__gt=0)
        .filter(listed_q("member__"))
        .annotate(s_rank=Window(Rank(), order_by=[F("points").desc()]))
        .values_list("s_rank", "member_id", "points", "xp")
    )
    sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(SeasonStanding._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (season_id, rank, member_id, points, xp, prize_points, prize_xp) "
            f"SELECT %s, sub.s_rank, sub.member_id, sub.points, sub.xp, 0, 0 FROM ({sql}) sub", [season.pk, *params])
        return cursor.rowcount


def _pay_prizes(season: Season) -> int:
    """Pay each prize-winning standing once (ledger entries keyed per season and member)."""
    last_rank = max((tier["rank_to"] for tier in season.prizes or []), default=0)
    winners = SeasonStanding.objects.filter(season=season, rank__lte=last_rank).select_related("member")
    paid = 0
    for standing in winners.order_by("rank", "member_id"):
        points, xp = season.prize_for(standing.rank)
        if not (points or xp) or not pay_prize(season=season, member=standing.member, rank=standing.rank):
            continue
        SeasonStanding.objects.filter(pk=standing.pk).update(prize_points=points, prize_xp=xp)
        paid += 1
    return paid


def pay_prize(*, season: Season, member: Member, rank: int) -> bool:
    """One prize as a ledger entry; its key makes a second payment a replay. False if not paid (banned)."""
    points, xp = season.prize_for(rank)
    try:
        with transaction.atomic():
            services.award(member=member, reason=PRIZE_REASON, points=points, xp=xp,
                           meta={"season": season.slug, "rank": rank},
                           idempotency_key=f"season-prize:{season.pk}:{member.pk}")
    except MemberBanned:
        return False  # banned since the standings were read: no prize
    return True


def _freeze_teams(season: Season) -> None:
    for row in team_board(season=season, live=True):
        Team.objects.filter(pk=row.team.pk).update(final_rank=row.rank, final_points=row.value)


def close_season(*, season_id: int, now: dt.datetime | None = None) -> CloseResult:
    """Freeze a season that is over: exact totals, standings, prizes, team board. Idempotent."""
    now = now or timezone.now()
    season = Season.objects.get(pk=season_id)
    if season.frozen_at is not None or season.ends >= today(now - CLOSE_GRACE):
        return CloseResult(season=season, closed=False)
    with transaction.atomic():
        if not _claim(season_id, now=now):
            return CloseResult(season=season, closed=False)
        season.frozen_at = now
        # Recompute from the day rows: a process whose season cache was stale may have missed rows.
        index.rebuild_season_totals(starts=season.starts, ends=season.ends)
        standings = _insert_standings(season)
        prizes = _pay_prizes(season)
        _freeze_teams(season)
    return CloseResult(season=season, closed=True, standings=standings, prizes=prizes)


def close_due_seasons(*, now: dt.datetime | None = None, tick=lambda n: None) -> list[CloseResult]:
    results = []
    for season_id in due_seasons(now).order_by("ends").values_list("pk", flat=True):
        results.append(close_season(season_id=season_id, now=now))
        tick(1)
    return results


# --- Teams ----------------------------------------------------------------------------------------------------


class TeamRow(NamedTuple):
    rank: int
    team: Team
    value: int
    members: int


def _sums_key(season_id: int, scope: int, base: str) -> str:
    return f"engagement:teamboard:{season_id}:{scope}:{base}"


def _cached_team_sums(*, season: Season, scope: int, base: str, live: bool) -> dict[int, tuple[int, int]]:
    seconds = 0 if live else conf.team_board_cache_seconds()
    key = _sums_key(season.pk, scope, base)
    if seconds and (sums := cache.get(key)) is not None:
        return sums
    sums = _team_sums(season=season, scope=scope, base=base)
    if seconds:
        cache.set(key, sums, seconds)
    return sums


def _forget_team_sums(season_id: int) -> None:
    """A join or leave shows at once on the boards over everything (activity boards within seconds)."""
    transaction.on_commit(lambda: cache.delete_many([_sums_key(season_id, 0, b) for b in ("points", "xp")]))


def _team_sums(*, season: Season, scope: int, base: str) -> dict[int, tuple[int, int]]:
    """{team id: (sum of its current members' season totals, members)} in one GROUP BY."""
    q = connection.ops.quote_name
    sql = (
        f"SELECT tm.team_id, COALESCE(SUM(t.{q(base)}), 0), COUNT(*) FROM {q(TeamMembership._meta.db_table)} tm "
        f"JOIN {q(Member._meta.db_table)} m ON m.id = tm.member_id "
        f"LEFT JOIN {q(LeaderboardTotal._meta.db_table)} t ON t.member_id = tm.member_id "
        f"AND t.scope = %s AND t.period = %s AND t.start = %s "
        f"WHERE tm.season_id = %s AND m.banned = %s GROUP BY tm.team_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [scope, LeaderboardTotal.Period.SEASON, season.starts, season.pk, False])
        return {team_id: (int(value), members) for team_id, value, members in cursor.fetchall()}


def team_board(*, season: Season, activity: Activity | None = None, metric: str = "points",
               live: bool = False) -> list[TeamRow]:
    """Every team of the season, best first: the sum of its current members' points (or XP) earned in
    the season; banned members do not count. A frozen season's points board is its teams' final values.
    The sums are reused for ENGAGEMENT_TEAM_BOARD_CACHE_SECONDS; ``live`` computes them afresh."""
    base = "xp" if metric == "xp" else "points"
    teams = list(Team.objects.filter(season=season).order_by("name", "pk"))
    sums = _cached_team_sums(season=season, scope=activity.pk if activity else 0, base=base, live=live)
    if season.frozen_at is not None and not live and activity is None and base == "points":
        rows = sorted(teams, key=lambda t: (t.final_rank or 0, t.name))
        return [TeamRow(t.final_rank or 0, t, t.final_points or 0, sums.get(t.pk, (0, 0))[1]) for t in rows]
    ordered = sorted(teams, key=lambda t: (-sums.get(t.pk, (0, 0))[0], t.name, t.pk))
    rows, previous, rank = [], None, 0
    for position, team in enumerate(ordered, start=1):
        value, members = sums.get(team.pk, (0, 0))
        if value != previous:
            rank, previous = position, value
        rows.append(TeamRow(rank, team, value, members))
    return rows


def membership(*, season: Season, member: Member) -> TeamMembership | None:
    return TeamMembership.objects.filter(season=season, member=member).select_related("team").first()


def _refuse_if_closed(season: Season) -> None:
    if state(season) in (Season.State.ENDED, Season.State.FROZEN):
        raise SeasonError("This season is over: teams can no longer change.", code="season_closed",
                          status_code=409)


@transaction.atomic
def join_team(*, member: Member, team: Team, code: str = "") -> TeamMembership:
    """Join ``team`` (one team per member per season; leave first to switch)."""
    services.refuse_if_banned(member)
    _refuse_if_closed(team.season)
    if team.join_code and not hmac.compare_digest(code.strip().encode(), team.join_code.encode()):
        code_name = "join_code_invalid" if code else "join_code_required"
        raise SeasonError("This team needs its join code.", code=code_name, status_code=403)
    try:
        with transaction.atomic():
            joined = TeamMembership.objects.create(season=team.season, team=team, member=member)
    except IntegrityError:
        raise SeasonError("You are already in a team this season; leave it first.", code="already_in_team",
                          status_code=409) from None
    _forget_team_sums(team.season_id)
    return joined


@transaction.atomic
def leave_team(*, member: Member, season: Season) -> Team:
    _refuse_if_closed(season)
    current = membership(season=season, member=member)
    if current is None:
        raise SeasonError("You are not in a team this season.", code="not_in_team", status_code=404)
    TeamMembership.objects.filter(pk=current.pk).delete()
    _forget_team_sums(season.pk)
    return current.team


def team_by_slug(*, season: Season, slug: str) -> Team:
    team = Team.objects.filter(season=season, slug=slugify(slug) or slug).select_related("season").first()
    if team is None:
        raise SeasonError("No such team in this season.", code="team_not_found", status_code=404)
    return team
