"""The redemption's hot statements, written by hand (see ``config.sql`` for why, and what is kept from
the ORM). ``services.redeem`` decides; this module only talks.

A redemption used to be 13 round trips; the three reads it starts with (member lock, key lookup, reward)
are now one statement, and the stock UPDATE and the redemption INSERT are prepared statements.
"""

from functools import cache

from config import sql
from engagement.models import Member
from rewards.models import Redemption, Reward


@cache
def _start_sql() -> str:
    d = lambda name: f"d.{sql.column(Redemption, name)}"  # noqa: E731
    key = (f"SELECT {d('id')} FROM {sql.table(Redemption)} d "
           f"WHERE {d('member')} = m.{sql.column(Member, 'id')} AND {d('idempotency_key')} = %s")
    return (f"SELECT {sql.columns(Member, 'm')}, {sql.columns(Reward, 'r')}, ({key}) "
            f"FROM {sql.table(Member)} m LEFT JOIN {sql.table(Reward)} r ON r.{sql.column(Reward, 'id')} = %s "
            f"WHERE m.{sql.column(Member, 'id')} = %s{sql.for_update(of='m')}")


def start(*, member_id: int, reward_id: int, key: str | None) -> tuple[Member, Reward | None, int | None]:
    """Lock the member (engagement's rule: every balance writer takes this lock first) and, in the same
    round trip, read the reward and the id of this member's redemption with ``key``, if any.

    Both reads come from the statement's snapshot. If the lock had to wait for another transaction of
    this member, a redemption it committed meanwhile with the same key is not seen here; the caller
    then meets the key's unique index (or a refusal) and looks again (``services.redeem``). The reward
    row is not locked: its stock is decided by ``take_stock``'s conditional UPDATE."""
    rows = sql.fetch(_start_sql(), [key, reward_id, member_id])
    if not rows:
        raise Member.DoesNotExist(f"No member {member_id}.")
    row, width = rows[0], len(Member._meta.concrete_fields)
    member = sql.build(Member, row[:width])
    reward = sql.build(Reward, row[width:-1]) if row[width] is not None else None
    return member, reward, row[-1]


@cache
def _take_stock_sql() -> str:
    stock, pk = sql.column(Reward, "stock"), sql.column(Reward, "id")
    return f"UPDATE {sql.table(Reward)} SET {stock} = {stock} - 1 WHERE {pk} = %s AND {stock} > 0"


def take_stock(reward_id: int) -> bool:
    """The SQL of ``filter(pk=..., stock__gt=0).update(stock=F("stock") - 1)``: whether a unit was left."""
    return sql.execute(_take_stock_sql(), [reward_id]).rowcount == 1


def insert_redemption(redemption: Redemption) -> Redemption:
    """INSERT a new redemption as ``save()`` would (``updated`` stamped by its ``auto_now``)."""
    return sql.insert([redemption])[0]
