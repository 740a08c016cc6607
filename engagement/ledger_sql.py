"""The ledger's hot statements, written by hand.

Every award, spend, refund and adjustment runs the statements below. Through the ORM each one was
compiled anew on every call, about 0.3 ms of CPU apiece: more than PostgreSQL needs to run it, and
most of the cost of an award (see BENCHMARKS.md). Here the SQL text is built once per process from the
models' own table and column names, and values go through the fields' own ``get_db_prep_save`` and
the backend's converters, so what reaches the database and what comes back are what the ORM would
send and build. The SQL is the common ground of PostgreSQL and SQLite (``RETURNING``, ``ON CONFLICT
DO NOTHING``, ``CASE``); the row lock comes from Django's backend features (nothing on SQLite, whose
IMMEDIATE transactions already serialise writers).

The guarantees stay where they were: the member row lock, the conditional balance UPDATE, the CHECK
constraints and the idempotency key's unique index. ``services`` decides; this module only talks.
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from engagement.models import Campaign, EarningRule, LedgerEntry, Member


# The default database, looked up once per statement: every attribute read on ``django.db.connection``
# goes through a context-local lookup, and they add up on a path this hot.
def _db():
    return connections[DEFAULT_DB_ALIAS]


def _table(model: type[Model]) -> str:
    return _db().ops.quote_name(model._meta.db_table)


def _column(model: type[Model], name: str) -> str:
    return _db().ops.quote_name(model._meta.get_field(name).column)


def execute(sql: str, params: list):
    """Run ``sql`` through a Django cursor wrapper (execute wrappers, query logging and error
    translation as usual) and return the wrapper, ready to fetch from.

    On PostgreSQL the psycopg cursor underneath binds parameters on the server, so psycopg prepares
    these few fixed statements after a handful of uses on a connection (``prepare_threshold``, see
    DB_PREPARED_STATEMENTS in the settings); Django's own cursors bind on the client, where nothing can
    be prepared. That cursor is kept with the connection and reused: creating one per statement was a
    measurable part of an award.
    """
    db = _db()
    if db.vendor != "postgresql":
        wrapper = db.cursor()
    else:
        db.ensure_connection()
        db.validate_thread_sharing()
        raw = db.connection
        kept = getattr(db, "_ledger_cursor", None)
        if kept is None or kept[0] is not raw:
            import psycopg

            kept = db._ledger_cursor = (raw, psycopg.Cursor(raw))
        wrapper = db.make_debug_cursor(kept[1]) if db.queries_logged else db.make_cursor(kept[1])
    wrapper.execute(sql, params)
    return wrapper


def _rows(sql: str, params: list) -> list[tuple]:
    return execute(sql, params).fetchall()


# --- Reading a row into a model instance the way the ORM does ----------------------------------------


@cache
def _reader(model: type[Model], vendor: str) -> tuple[str, list[str], list[tuple[int, object, list]]]:
    """(column list, attnames, converters) for SELECTing every concrete field of ``model``: the same
    backend and field converters the ORM applies to its rows (e.g. SQLite's text datetimes)."""
    db, fields = _db(), model._meta.concrete_fields
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    converters = []
    for i, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        found = db.ops.get_db_converters(col) + field.get_db_converters(db)
        if found:
            converters.append((i, col, found))
    return columns, [f.attname for f in fields], converters


def _instance(model: type[Model], row) -> Model:
    db = _db()
    _, attnames, converters = _reader(model, db.vendor)
    values = list(row)
    for i, col, functions in converters:
        for convert in functions:
            values[i] = convert(values[i], col, db)
    return model.from_db(db.alias, attnames, values)


@cache
def _lock_member_sql(vendor: str) -> str:
    columns, _, _ = _reader(Member, vendor)
    db = _db()
    lock = db.ops.for_update_sql(no_key=True) if db.features.has_select_for_update else ""
    # FOR NO KEY UPDATE: it excludes every other balance writer (they all take this lock) but not the
    # KEY SHARE locks that foreign-key checks take, so inserting rows that point at the member
    # (tickets, redemptions) elsewhere never waits for an award.
    return f"SELECT {columns} FROM {_table(Member)} WHERE {_column(Member, 'id')} = %s {lock}".rstrip()


def lock_member(member_id: int) -> Member:
    rows = _rows(_lock_member_sql(_db().vendor), [member_id])
    if not rows:
        raise Member.DoesNotExist(f"No member {member_id}.")
    return _instance(Member, rows[0])


# --- Rules, campaigns, caps --------------------------------------------------------------------------

RULE_FIELDS = ("id", "reason", "points", "xp", "daily_cap", "lifetime_cap")


@cache
def _rule_sql(vendor: str) -> str:
    columns = ", ".join(_column(EarningRule, name) for name in RULE_FIELDS)
    return (f"SELECT {columns} FROM {_table(EarningRule)} "
            f"WHERE {_column(EarningRule, 'reason')} = %s AND {_column(EarningRule, 'active')}")


def active_rule(reason: str) -> EarningRule | None:
    """The active earning rule for ``reason`` (the fields an award reads; the rest load on access)."""
    db = _db()
    rows = _rows(_rule_sql(db.vendor), [reason])
    return EarningRule.from_db(db.alias, RULE_FIELDS, rows[0]) if rows else None


@cache
def _campaign_probe_sql(vendor: str) -> str:
    c = lambda name: _column(Campaign, name)  # noqa: E731
    return (f"SELECT 1 FROM {_table(Campaign)} WHERE {c('active')} AND {c('starts_at')} <= %s "
            f"AND {c('ends_at')} > %s LIMIT 1")


def any_campaign_running(at) -> bool:
    """Whether any campaign is running at ``at`` (served by the partial index on active campaigns)."""
    db = _db()
    value = db.ops.adapt_datetimefield_value(at)
    return bool(_rows(_campaign_probe_sql(db.vendor), [value, value]))


@cache
def _awards_sql(vendor: str, lifetime: bool) -> str:
    e = lambda name: _column(LedgerEntry, name)  # noqa: E731
    where = f"{e('member')} = %s AND {e('reason')} = %s"
    if lifetime:
        today = f"COALESCE(SUM(CASE WHEN {e('created')} >= %s AND {e('created')} < %s THEN 1 ELSE 0 END), 0)"
        return f"SELECT COUNT(*), {today} FROM {_table(LedgerEntry)} WHERE {where}"
    where += f" AND {e('created')} >= %s AND {e('created')} < %s"
    return f"SELECT 0, COUNT(*) FROM {_table(LedgerEntry)} WHERE {where}"


def count_awards(*, member_id: int, reason: str, day: tuple, lifetime: bool) -> tuple[int, int]:
    """(all time or 0 when not ``lifetime``, on ``day``): a member's entries with ``reason``, in one
    range of the (member, reason, created) index."""
    db = _db()
    start, end = (db.ops.adapt_datetimefield_value(at) for at in day)
    params = [start, end, member_id, reason] if lifetime else [member_id, reason, start, end]
    total, today = _rows(_awards_sql(db.vendor, lifetime), params)[0]
    return int(total), int(today)


# --- Writes ------------------------------------------------------------------------------------------

ENTRY_FIELDS = ("member", "points", "xp", "reason", "activity", "actor", "meta", "idempotency_key",
                "request_hash", "created")


@cache
def _insert_entry_sql(vendor: str) -> str:
    columns = ", ".join(_column(LedgerEntry, name) for name in ENTRY_FIELDS)
    placeholders = ", ".join(["%s"] * len(ENTRY_FIELDS))
    # No conflict target: the only unique index a new row can hit is the idempotency key's, and without
    # a target the statement also works while that constraint is briefly gone (a negative-control test
    # drops it). A conflict returns no row, after waiting for the other writer to commit or roll back.
    return (f"INSERT INTO {_table(LedgerEntry)} ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT DO NOTHING RETURNING {_column(LedgerEntry, 'id')}")


def insert_entry(entry: LedgerEntry) -> bool:
    """INSERT ``entry`` and set its primary key; False (and no row) if its idempotency key is taken."""
    db, meta = _db(), LedgerEntry._meta
    params = [meta.get_field(name).get_db_prep_save(getattr(entry, meta.get_field(name).attname), db)
              for name in ENTRY_FIELDS]
    rows = _rows(_insert_entry_sql(db.vendor), params)
    if not rows:
        return False
    entry.pk = rows[0][0]
    entry._state.adding, entry._state.db = False, db.alias
    return True


@cache
def _move_balance_sql(vendor: str, guarded: bool) -> str:
    m = lambda name: _column(Member, name)  # noqa: E731
    guard = f" AND {m('points')} >= %s" if guarded else ""
    # The SQL of F("points") + n: the increment happens in the database, under the member lock.
    return (f"UPDATE {_table(Member)} SET {m('points')} = {m('points')} + %s, {m('xp')} = {m('xp')} + %s, "
            f"{m('level')} = %s WHERE {m('id')} = %s{guard}")


def move_balance(*, member_id: int, points: int, xp: int, level: int, guarded: bool) -> bool:
    """Add ``points`` and ``xp`` to the cached balances and set ``level``. ``guarded``: only if the
    balance covers a removal (False, and nothing written, if it does not)."""
    params = [points, xp, level, member_id] + ([-points] if guarded else [])
    return execute(_move_balance_sql(_db().vendor, guarded), params).rowcount == 1


@cache
def _key_sql(vendor: str) -> str:
    e = lambda name: _column(LedgerEntry, name)  # noqa: E731
    return f"SELECT {e('id')}, {e('request_hash')} FROM {_table(LedgerEntry)} WHERE {e('idempotency_key')} = %s"


def entry_for_key(key: str) -> tuple[int, str] | None:
    """(id, request hash) of the entry written with idempotency ``key``, if any."""
    rows = _rows(_key_sql(_db().vendor), [key])
    return tuple(rows[0]) if rows else None
