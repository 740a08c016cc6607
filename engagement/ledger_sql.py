"""The ledger's hot statements, written by hand (see ``config.sql`` for why, and what is kept from
the ORM).

Every award, spend, refund and adjustment runs the statements below. Their SQL text is built once per
process, for the default database (``@cache`` on the builders); values go through the fields' own
``get_db_prep_save`` and rows come back through the ORM's converters. The SQL is the common ground of
PostgreSQL and SQLite (``RETURNING``, ``ON CONFLICT DO NOTHING``, ``CASE``); the row lock comes from
Django's backend features.

The guarantees stay where they were: the member row lock, the conditional balance UPDATE, the CHECK
constraints and the idempotency key's unique index. ``services`` decides; this module only talks.
"""

from functools import cache

from config import sql
from engagement.models import Campaign, EarningRule, LedgerEntry, Member, Streak

# --- Member lock -------------------------------------------------------------------------------------


def lock_member(member_id: int) -> Member:
    # FOR NO KEY UPDATE (config.sql.for_update): it excludes every other balance writer (they all take
    # this lock) but not the KEY SHARE locks of foreign-key checks, so inserting rows that point at the
    # member (tickets, redemptions) elsewhere never waits for an award.
    member = sql.locked_row(Member, "r.id = %s", [member_id])
    if member is None:
        raise Member.DoesNotExist(f"No member {member_id}.")
    return member


# --- Rules, campaigns, caps --------------------------------------------------------------------------

RULE_FIELDS = ("id", "reason", "points", "xp", "daily_cap", "lifetime_cap")


@cache
def _rule_sql() -> str:
    c = lambda name: sql.column(EarningRule, name)  # noqa: E731
    return (f"SELECT {sql.columns(EarningRule, names=RULE_FIELDS)} FROM {sql.table(EarningRule)} "
            f"WHERE {c('reason')} = %s AND {c('active')}")


def active_rule(reason: str) -> EarningRule | None:
    """The active earning rule for ``reason`` (the fields an award reads; the rest load on access)."""
    rows = sql.fetch(_rule_sql(), [reason])
    return sql.build(EarningRule, rows[0], RULE_FIELDS) if rows else None


@cache
def _campaign_probe_sql() -> str:
    c = lambda name: sql.column(Campaign, name)  # noqa: E731
    return (f"SELECT 1 FROM {sql.table(Campaign)} WHERE {c('active')} AND {c('starts_at')} <= %s "
            f"AND {c('ends_at')} > %s LIMIT 1")


def any_campaign_running(at) -> bool:
    """Whether any campaign is running at ``at`` (served by the partial index on active campaigns)."""
    value = sql.prep(Campaign, "starts_at", at)
    return bool(sql.fetch(_campaign_probe_sql(), [value, value]))


# A member's streak as an award reads it (streaks.STATE_FIELDS is this tuple; streaks.State's order).
STREAK_FIELDS = ("last_active_day", "current", "best", "freezes")


@cache
def _rule_and_campaign_sql(with_streak: bool) -> str:
    r = lambda name: f"r.{sql.column(EarningRule, name)}"  # noqa: E731
    # One row whatever the rule table holds: the LEFT JOIN from a one-row constant fills the rule's
    # columns with NULLs when the reason has no active rule (and the streak's when the member has none).
    streak_columns = f", {sql.columns(Streak, 's', STREAK_FIELDS)}" if with_streak else ""
    streak_join = (f" LEFT JOIN {sql.table(Streak)} s ON s.{sql.column(Streak, 'member')} = %s"
                   if with_streak else "")
    return (f"SELECT {sql.columns(EarningRule, 'r', RULE_FIELDS)}, EXISTS ({_campaign_probe_sql()}){streak_columns} "
            f"FROM (SELECT 1 AS one) o LEFT JOIN {sql.table(EarningRule)} r "
            f"ON {r('reason')} = %s AND {r('active')}{streak_join}")


def _rule_and_campaign_row(reason: str, at, streak_of: int | None) -> tuple[EarningRule | None, bool, tuple]:
    value = sql.prep(Campaign, "starts_at", at)
    params = [value, value, reason] if streak_of is None else [value, value, reason, streak_of]
    row = sql.fetch(_rule_and_campaign_sql(streak_of is not None), params)[0]
    width = len(RULE_FIELDS)
    rule = sql.build(EarningRule, row[:width], RULE_FIELDS) if row[0] is not None else None
    return rule, bool(row[width]), row[width + 1:]


def rule_and_campaign(reason: str, at) -> tuple[EarningRule | None, bool]:
    """``active_rule(reason)`` and ``any_campaign_running(at)`` in one round trip: every award asks both."""
    rule, running, _ = _rule_and_campaign_row(reason, at, None)
    return rule, running


def rule_campaign_and_streak(reason: str, at, member_id: int) -> tuple[EarningRule | None, bool, list | None]:
    """``rule_and_campaign(reason, at)`` and the member's streak row (``streaks.read_state``'s values,
    converted; None if it has none) in one round trip. An award sends it once it holds the member
    lock, as the streak's read must be: a statement that began before the lock was granted would see
    the streak as it was before the transaction we waited for."""
    rule, running, streak = _rule_and_campaign_row(reason, at, member_id)
    # current, best and freezes are NOT NULL: a NULL there is the LEFT JOIN's missing row.
    state = sql.convert(Streak, streak, STREAK_FIELDS) if streak[1] is not None else None
    return rule, running, state


@cache
def _awards_sql(lifetime: bool) -> str:
    e = lambda name: sql.column(LedgerEntry, name)  # noqa: E731
    where = f"{e('member')} = %s AND {e('reason')} = %s"
    if lifetime:
        today = f"COALESCE(SUM(CASE WHEN {e('created')} >= %s AND {e('created')} < %s THEN 1 ELSE 0 END), 0)"
        return f"SELECT COUNT(*), {today} FROM {sql.table(LedgerEntry)} WHERE {where}"
    where += f" AND {e('created')} >= %s AND {e('created')} < %s"
    return f"SELECT 0, COUNT(*) FROM {sql.table(LedgerEntry)} WHERE {where}"


def count_awards(*, member_id: int, reason: str, day: tuple, lifetime: bool) -> tuple[int, int]:
    """(all time or 0 when not ``lifetime``, on ``day``): a member's entries with ``reason``, in one
    range of the (member, reason, created) index."""
    start, end = (sql.prep(LedgerEntry, "created", at) for at in day)
    params = [start, end, member_id, reason] if lifetime else [member_id, reason, start, end]
    total, today = sql.fetch(_awards_sql(lifetime), params)[0]
    return int(total), int(today)


# --- Writes ------------------------------------------------------------------------------------------

ENTRY_FIELDS = ("member", "points", "xp", "reason", "activity", "actor", "meta", "idempotency_key",
                "request_hash", "created")


@cache
def _insert_entry_sql() -> str:
    # No conflict target: the only unique index a new row can hit is the idempotency key's, and without
    # a target the statement also works while that constraint is briefly gone (a negative-control test
    # drops it). A conflict returns no row, after waiting for the other writer to commit or roll back.
    return (f"INSERT INTO {sql.table(LedgerEntry)} ({sql.columns(LedgerEntry, names=ENTRY_FIELDS)}) "
            f"VALUES ({sql.placeholders(len(ENTRY_FIELDS))}) "
            f"ON CONFLICT DO NOTHING RETURNING {sql.column(LedgerEntry, 'id')}")


@cache
def _entry_fields() -> list:
    return [LedgerEntry._meta.get_field(name) for name in ENTRY_FIELDS]


def insert_entry(entry: LedgerEntry) -> bool:
    """INSERT ``entry`` and set its primary key; False (and no row) if its idempotency key is taken."""
    db = sql.db()
    params = [field.get_db_prep_save(getattr(entry, field.attname), db) for field in _entry_fields()]
    rows = sql.fetch(_insert_entry_sql(), params)
    if not rows:
        return False
    entry.pk = rows[0][0]
    entry._state.adding, entry._state.db = False, db.alias
    return True


@cache
def _move_balance_sql(guarded: bool) -> str:
    m = lambda name: sql.column(Member, name)  # noqa: E731
    guard = f" AND {m('points')} >= %s" if guarded else ""
    # The SQL of F("points") + n: the increment happens in the database, under the member lock.
    return (f"UPDATE {sql.table(Member)} SET {m('points')} = {m('points')} + %s, {m('xp')} = {m('xp')} + %s, "
            f"{m('level')} = %s WHERE {m('id')} = %s{guard}")


def move_balance(*, member_id: int, points: int, xp: int, level: int, guarded: bool) -> bool:
    """Add ``points`` and ``xp`` to the cached balances and set ``level``. ``guarded``: only if the
    balance covers a removal (False, and nothing written, if it does not)."""
    params = [points, xp, level, member_id] + ([-points] if guarded else [])
    return sql.execute(_move_balance_sql(guarded), params).rowcount == 1


@cache
def _write_entry_sql(guarded: bool) -> str:
    # PostgreSQL only (SQLite has no data-modifying WITH): the INSERT and the balance UPDATE in one round
    # trip. The UPDATE runs only if the INSERT wrote a row, so a taken key still writes nothing at all.
    m = lambda name: sql.column(Member, name)  # noqa: E731
    guard = f" AND {m('points')} >= %s" if guarded else ""
    insert = _insert_entry_sql()
    move = (f"UPDATE {sql.table(Member)} SET {m('points')} = {m('points')} + %s, {m('xp')} = {m('xp')} + %s, "
            f"{m('level')} = %s WHERE {m('id')} = %s AND EXISTS (SELECT 1 FROM e){guard} RETURNING 1")
    return f"WITH e AS ({insert}), b AS ({move}) SELECT (SELECT * FROM e), (SELECT COUNT(*) FROM b)"


def write_entry(entry: LedgerEntry, *, level: int, guarded: bool) -> tuple[bool, bool]:
    """``insert_entry(entry)`` then ``move_balance`` by the entry's points and XP: (inserted, moved).
    Nothing is written unless both happen, except a refused move (moved False) after the INSERT, which
    the caller's transaction rolls back as it would after the two statements."""
    if sql.db().vendor != "postgresql":
        if not insert_entry(entry):
            return False, False
        moved = move_balance(member_id=entry.member_id, points=entry.points, xp=entry.xp, level=level,
                             guarded=guarded)
        return True, moved
    db = sql.db()
    params = [field.get_db_prep_save(getattr(entry, field.attname), db) for field in _entry_fields()]
    params += [entry.points, entry.xp, level, entry.member_id] + ([-entry.points] if guarded else [])
    entry_id, moved = sql.fetch(_write_entry_sql(guarded), params)[0]
    if entry_id is None:
        return False, False
    entry.pk = entry_id
    entry._state.adding, entry._state.db = False, db.alias
    return True, moved == 1


@cache
def _key_sql() -> str:
    e = lambda name: sql.column(LedgerEntry, name)  # noqa: E731
    return f"SELECT {e('id')}, {e('request_hash')} FROM {sql.table(LedgerEntry)} WHERE {e('idempotency_key')} = %s"


def entry_for_key(key: str) -> tuple[int, str] | None:
    """(id, request hash) of the entry written with idempotency ``key``, if any."""
    rows = sql.fetch(_key_sql(), [key])
    return tuple(rows[0]) if rows else None
