"""Season boards: which seasons an entry counts on (a per-process cache), their totals' rebuild, and
the frozen standings as a board source.

A season's live board is LeaderboardTotal rows (scope, ``s``, season.starts, member), upserted by
totals.add_entry with the windows' rows, so it is an index range like any window. Seasons are few and
change rarely, so the open ones are cached per process for SEASON_CACHE_SECONDS and the cache is
dropped in the process that saves a season. Another process may miss a season created or moved in
the last few seconds; closing a season therefore recomputes its rows from the day rows (exact, they
do not depend on the cache) before freezing them, and the admin recomputes them when it saves a season.
"""

import datetime as dt
import threading
import time

from django.db import transaction
from django.db.models import DateField, F, Sum, Value

from engagement.leaderboards.rows import display_columns, row_member
from engagement.models.leaderboard import LeaderboardTotal
from engagement.models.seasons import Season, SeasonStanding

SEASON_CACHE_SECONDS = 30
_cache: tuple[float, tuple[tuple[dt.date, dt.date], ...]] = (0.0, ())
_lock = threading.Lock()


def open_seasons() -> tuple[tuple[dt.date, dt.date], ...]:
    """(starts, ends) of the seasons not frozen yet, cached per process."""
    global _cache
    expires, seasons = _cache
    if time.monotonic() < expires:
        return seasons
    with _lock:
        seasons = tuple(Season.objects.filter(frozen_at__isnull=True).order_by("starts").values_list("starts", "ends"))
        _cache = (time.monotonic() + SEASON_CACHE_SECONDS, seasons)
    return seasons


def forget_seasons(**kwargs) -> None:
    """Drop this process's cache (post_save / post_delete of Season, and tests); again on commit, so
    that a reload between the save and its commit does not keep the old seasons for the next 30 s."""
    _clear()
    if kwargs.get("sender") is not None:
        transaction.on_commit(_clear)


def _clear() -> None:
    global _cache
    _cache = (0.0, ())


def season_boards(*, day: dt.date, activity_id: int | None) -> list[tuple[int, str, dt.date]]:
    """The season boards an entry of ``day`` counts on: everything and, with one, its activity."""
    boards = []
    for starts, ends in open_seasons():
        if starts <= day <= ends:
            boards.append((0, LeaderboardTotal.Period.SEASON, starts))
            if activity_id is not None:
                boards.append((activity_id, LeaderboardTotal.Period.SEASON, starts))
    return boards


def season_rows(*, starts: dt.date, ends: dt.date):
    """A season's totals as sums of its day rows (everything and every activity): the SELECT that
    totals.insert_select writes. The day rows are kept under each member's lock in the entries' own
    transactions, so they are exact whatever any process's season cache said."""
    return (
        LeaderboardTotal.objects.filter(period=LeaderboardTotal.Period.DAY, start__gte=starts, start__lte=ends)
        .annotate(b_scope=F("scope"), b_start=Value(starts, output_field=DateField()))
        .values("b_scope", "b_start", "member_id")
        .annotate(b_period=Value(LeaderboardTotal.Period.SEASON), s_points=Sum("points"), s_xp=Sum("xp"))
        .order_by()
    )


class StandingSource:
    """A frozen season's points board (everything), read from its SeasonStanding rows."""

    def __init__(self, *, season_id: int, base: str):
        self.base, self.other = base, ("xp" if base == "points" else "points")
        self.standings = SeasonStanding.objects.filter(season_id=season_id)

    def top(self, limit: int) -> list[tuple[int, int, int]]:
        return list(self.standings.order_by(f"-{self.base}", "member_id").values_list("member_id", self.base,
                                                                                      self.other)[:limit])

    def rows(self, limit: int) -> list[tuple]:
        """[(value, other value, member, None)] of the best ``limit``, display columns joined in (see rows.py)."""
        ranked = self.standings.order_by(f"-{self.base}", "member_id").values_list(
            self.base, self.other, *display_columns("member__"))[:limit]
        return [(base, other, row_member(display), None) for base, other, *display in ranked]

    def member_values(self, member_id: int) -> tuple[int, int] | None:
        return self.standings.filter(member_id=member_id).values_list(self.base, self.other).first()

    def count_above(self, value: int) -> int:
        return self.standings.filter(**{f"{self.base}__gt": value}).count()

    def count_at_least(self, value: int) -> int:
        return self.standings.filter(**{f"{self.base}__gte": value}).count()
