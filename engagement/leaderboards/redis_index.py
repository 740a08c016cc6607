"""The Redis sorted-set index of the leaderboards: derived data, written after commit, rebuilt at will.

Layout (``P`` is ENGAGEMENT_LEADERBOARD_PREFIX): ``P:g:a:points`` and ``P:g:a:xp`` hold every visible
member's balances (ZADD of committed values); ``P:<scope>:<period>:<start>:<points|xp>`` hold what a
member earned on one scoped or windowed board (ZINCRBY per entry; window keys expire after their
period). ``P:ready`` exists while the index is complete; readers use SQL without it.

Scores are the *negated* values, so an ascending ZRANGEBYSCORE returns the highest first and breaks
ties by member (zero-padded id) ascending, exactly like SQL's ``ORDER BY value DESC, member_id``.
Competition rank is 1 + ZCOUNT of the strictly better scores. Members with nothing (score >= 0) are
left in the sets but never listed or counted.
"""

import datetime as dt
import logging
from functools import cache

import redis
from django.conf import settings

from engagement.leaderboards.periods import aware_midnight, period_end
from engagement.leaderboards.rows import RowMember, display_columns, row_member
from engagement.models.leaderboard import LeaderboardTotal
from engagement.models.ledger import Member, listed_q

log = logging.getLogger(__name__)
ID_WIDTH = 12
# Window keys outlive their period a little so a board read at midnight still finds yesterday's.
WINDOW_GRACE = dt.timedelta(days=2)

# Global balances are absolute values, so an older after-commit callback must not overwrite a newer
# one: the last applied ledger entry id per member guards the write (ids grow under the member lock).
# A reindex from SQL under the member lock is the latest truth and is forced through (ARGV[6]).
SET_BALANCES = """
local last = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
local given = tonumber(ARGV[2])
if given < last and ARGV[6] ~= '1' then return 0 end
if given > last then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
for i = 1, 2 do
  local value = tonumber(ARGV[2 + i])
  if value > 0 and ARGV[5] == '1' then redis.call('ZADD', KEYS[i], -value, ARGV[1])
  else redis.call('ZREM', KEYS[i], ARGV[1]) end
end
return 1
"""


def enabled() -> bool:
    return bool(getattr(settings, "ENGAGEMENT_LEADERBOARD_REDIS", False) and settings.REDIS_URL)


def prefix() -> str:
    return getattr(settings, "ENGAGEMENT_LEADERBOARD_PREFIX", "plaudit:lb")


@cache
def _client_for(url: str) -> redis.Redis:
    # Short timeouts: a slow or dead Redis must cost a board a few ms before SQL answers instead.
    return redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=30)


def client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


def member_key(member_id: int) -> str:
    return str(member_id).zfill(ID_WIDTH)


def board_key(scope: int, period: str, start: dt.date | None, base: str) -> str:
    if scope == 0 and period == LeaderboardTotal.Period.ALL:
        return f"{prefix()}:g:a:{base}"
    return f"{prefix()}:{scope}:{period}:{start.isoformat()}:{base}"


def ready_key() -> str:
    return f"{prefix()}:ready"


def version_key() -> str:
    return f"{prefix()}:ver"


def expires_at(period: str, start: dt.date) -> int | None:
    if period == LeaderboardTotal.Period.ALL:
        return None
    return int((aware_midnight(period_end(period, start)) + WINDOW_GRACE).timestamp())


# --- Writes (after commit) ---------------------------------------------------------------------------


def _set_balances(pipe, *, member_id: int, entry_id: int, points: int, xp: int, visible: bool,
                  force: bool = False) -> None:
    keys = [board_key(0, "a", None, "points"), board_key(0, "a", None, "xp"), version_key()]
    flags = ("1" if visible else "0", "1" if force else "0")
    pipe.eval(SET_BALANCES, 3, *keys, member_key(member_id), entry_id, points, xp, *flags)


def apply_entry(*, member_id: int, entry_id: int, balances: tuple[int, int], visible: bool,
                boards: list[tuple[int, str, dt.date]], delta: tuple[int, int]) -> None:
    """Index one committed entry: the member's new balances, and ``delta`` on each scoped board."""
    pipe = client().pipeline(transaction=False)
    _set_balances(pipe, member_id=member_id, entry_id=entry_id, points=balances[0], xp=balances[1], visible=visible)
    if visible:
        name = member_key(member_id)
        for scope, period, start in boards:
            for base, value in zip(("points", "xp"), delta, strict=True):
                key = board_key(scope, period, start, base)
                if value:
                    pipe.zincrby(key, -value, name)
                if (when := expires_at(period, start)) is not None:
                    pipe.expireat(key, when)
    pipe.execute()


def set_member(*, member_id: int, version: int, balances: tuple[int, int], visible: bool,
               totals: list[LeaderboardTotal]) -> None:
    """Write one member's index entries from SQL (opt-in, opt-out, repair): absolute values."""
    pipe = client().pipeline(transaction=False)
    _set_balances(pipe, member_id=member_id, entry_id=version, points=balances[0], xp=balances[1], visible=visible,
                  force=True)
    name = member_key(member_id)
    for total in totals:
        for base in ("points", "xp"):
            key = board_key(total.scope, total.period, total.start, base)
            if visible:
                pipe.zadd(key, {name: -getattr(total, base)})
            else:
                pipe.zrem(key, name)
    pipe.execute()


# --- Reads ---------------------------------------------------------------------------------------------


def top(key: str, other_key: str, limit: int) -> list[tuple[int, int, int]]:
    """[(member_id, value, other value)] of the best ``limit`` members of a board, best first."""
    names_scores = client().zrangebyscore(key, "-inf", "(0", start=0, num=limit, withscores=True)
    if not names_scores:
        return []
    others = client().zmscore(other_key, [name for name, _ in names_scores])
    return [(int(name), int(-score), int(-(other or 0))) for (name, score), other in zip(names_scores, others,
                                                                                            strict=True)]


def member_values(key: str, other_key: str, member_id: int) -> tuple[int, int] | None:
    pipe = client().pipeline(transaction=False)
    pipe.zscore(key, member_key(member_id))
    pipe.zscore(other_key, member_key(member_id))
    score, other = pipe.execute()
    if score is None or score >= 0:
        return None
    return int(-score), int(-(other or 0))


def count_at_least(key: str, value: int) -> int:
    """Members whose value is >= ``value`` (value > 0)."""
    return client().zcount(key, "-inf", -value)


def count_above(key: str, value: int) -> int:
    return client().zcount(key, "-inf", f"({-value}")


def is_ready() -> bool:
    return bool(client().exists(ready_key()))



class RedisSource:
    """The same questions as SqlSource, answered from the sorted sets."""

    def __init__(self, *, scope: int, period: str, start, base: str):
        other = "xp" if base == "points" else "points"
        self.key = board_key(scope, period, start, base)
        self.other_key = board_key(scope, period, start, other)

    def top(self, limit: int) -> list[tuple[int, int, int]]:
        return top(self.key, self.other_key, limit)

    def rows(self, limit: int) -> list[tuple[int, int, RowMember, tuple[int, int] | None]]:
        """The ids from Redis, then one query for their display columns and committed balances.

        Redis may briefly list a member an admin hid outside the profile API: they are left out.
        """
        ranked = top(self.key, self.other_key, limit)
        found = Member.objects.filter(listed_q(), pk__in=[m for m, _, _ in ranked])
        shown = {values[0]: values for values in found.values_list(*display_columns(), "points", "xp")}
        return [(base, other, row_member(shown[m][:-2]), shown[m][-2:]) for m, base, other in ranked if m in shown]

    def member_values(self, member_id: int) -> tuple[int, int] | None:
        return member_values(self.key, self.other_key, member_id)

    def count_above(self, value: int) -> int:
        return count_above(self.key, value)

    def count_at_least(self, value: int) -> int:
        return count_at_least(self.key, value)
