"""Own ranks without Redis: a histogram of values per (board, base), kept in the ledger's transaction.

A rank is 1 + the members strictly above a value v. Counting them in the board's index grows with
the rank (~100 ms for a low rank among 1M members). Instead we keep, per board (scope, period, start;
the global all-time board is (0, "a", EPOCH)) and base (points "p" or XP "x"), how many members have
a value in each bucket, and answer

    above(v) = Σ members in the buckets above v's bucket            (a short index-only range sum)
             + members with v < value < end of v's bucket           (an index-only count in a narrow range)
             − hidden (opted-out or banned) members with value > v  (few: a partial index's range)

Day boards have none (``WITHOUT``): a day's members are few enough to count in the board's index.

Buckets are exact for values below 256 (where most members are) and above that keep a value's top 8
bits, so a bucket is 1/256–1/128 of its values wide: at most ~1,400 buckets up to 100,000 and a
narrow in-bucket count however dense the board.

Exact under concurrency because every change is written where the value changes: in the entry's own
transaction, under the member's row lock (services.lock_member), from the value the same statement
returned (the totals upsert's RETURNING, the member's locked balances). A member's moves therefore
telescope: the sum of their rows is +1 in the bucket of their current value. Hidden members stay in
the histogram (visibility changes write nothing here) and are subtracted at read time. On PostgreSQL the
rows are appended by the totals upsert's own statement (``with_moves``), elsewhere by ``record``.

Why append-only rows rather than one counter per bucket: every award of a small value moves a member
between the same few low buckets, so counters would be a handful of hot rows that every award locks
until commit, serialising all awards. An INSERT locks nothing another award needs. ``compact()``
(the beat task, every ENGAGEMENT_LEADERBOARD_COMPACT_SECONDS) folds each bucket's rows into one.
"""

from functools import cache

from django.db import connection, transaction
from django.db.models import Count, Sum

from config import sql as config_sql
from engagement.models.leaderboard import EPOCH, LeaderboardBucket, LeaderboardTotal

GLOBAL = (0, LeaderboardTotal.Period.ALL.value, EPOCH)
# Boards with no histogram: a day holds one day's members, few enough for its own rank to be the board's
# index-only COUNT (sql.SqlSource.count_above), and every award touches one or two of them (today's,
# global and the activity's): leaving them out spares each award a quarter of its histogram rows.
WITHOUT = (LeaderboardTotal.Period.DAY.value,)


def kept(period: str) -> bool:
    """Whether boards of ``period`` have a histogram (the global all-time board always has)."""
    return period not in WITHOUT
BASES = (("p", "points"), ("x", "xp"))
BASE_CODE = dict((name, code) for code, name in BASES)
KEY = ("scope", "period", "start", "base", "bucket")
# Significant bits a bucket keeps: values below 2**KEPT_BITS are exact.
KEPT_BITS = 8


def bucket_of(value: int) -> int:
    """The lowest value of ``value``'s bucket (value > 0)."""
    shift = max(0, value.bit_length() - KEPT_BITS)
    return (value >> shift) << shift


def bucket_end(value: int) -> int:
    """The first value above ``value``'s bucket."""
    shift = max(0, value.bit_length() - KEPT_BITS)
    return ((value >> shift) + 1) << shift


def bucket_sql(column: str) -> str:
    """``bucket_of`` as a portable SQL expression over an integer column (positive values)."""
    branches = [f"WHEN {column} < {1 << KEPT_BITS} THEN {column}"]
    for bits in range(KEPT_BITS + 1, 63):
        width = 1 << (bits - KEPT_BITS)
        branches.append(f"WHEN {column} < {1 << bits} THEN ({column} / {width}) * {width}")
    width = 1 << (63 - KEPT_BITS)
    # Integer division on both PostgreSQL (bigint) and SQLite; no "%", which parameter styles reserve.
    return f"CASE {' '.join(branches)} ELSE ({column} / {width}) * {width} END"


def bucket_sql_postgresql(column: str) -> str:
    """``bucket_of`` in PostgreSQL, short: the value's bit length is the length of its 64-bit binary form
    without leading zeros, and the bucket keeps its top KEPT_BITS bits by shifting the rest out and back.
    ``bucket_sql`` spelled out as a CASE is ~5 KB per use; the award statement (``with_moves``) uses it
    twice, which put the statement beyond the length psycopg caches its conversion for, so every award
    re-parsed 10 KB of SQL text on the client."""
    shift = f"GREATEST(0, LENGTH(LTRIM(({column})::bit(64)::text, '0')) - {KEPT_BITS})"
    return f"((({column}) >> {shift}) << {shift})"


# --- Writes (in the ledger transaction, under the member's lock) ---------------------------------------


def moves(board: tuple, old: tuple[int, int], new: tuple[int, int]) -> list[tuple]:
    """The histogram rows for one member's (points, xp) on ``board`` going from ``old`` to ``new``."""
    out = []
    for (code, _), before, after in zip(BASES, old, new, strict=True):
        was = bucket_of(before) if before > 0 else None
        now = bucket_of(after) if after > 0 else None
        if was == now:
            continue  # most awards above the exact range stay in their bucket and write nothing
        if was is not None:
            out.append((*board, code, was, -1))
        if now is not None:
            out.append((*board, code, now, 1))
    return out


def entry_moves(*, balances: tuple[int, int], delta: tuple[int, int], totals: list[tuple]) -> list[tuple]:
    """All rows for one ledger entry: the member's balances (global board) and each board total it
    changed (``totals``: (scope, period, start, points, xp) after the entry, as the upsert returned)."""
    dp, dx = delta
    rows = moves(GLOBAL, (balances[0] - dp, balances[1] - dx), balances)
    for scope, period, start, points, xp in totals:
        if kept(period):
            rows += moves((scope, period, start), (points - dp, xp - dx), (points, xp))
    return rows


def folds_into_upsert() -> bool:
    """Whether the histogram rows are written by the totals upsert's own statement (``with_moves``)."""
    return connection.vendor == "postgresql"


def with_moves(upsert: str) -> str:
    """``upsert`` (the totals' INSERT … RETURNING scope, period, start, points, xp) and the histogram rows
    of the entry in one statement: what ``entry_moves`` computes, in SQL over the upsert's RETURNING (a
    data-modifying WITH; PostgreSQL), so an award spends one round trip fewer. Its params follow the
    upsert's: ``moves_params(balances, delta)``."""
    table, names = config_sql.table(LeaderboardBucket), ", ".join(KEY)
    was, now = bucket_sql_postgresql("v_new - v_delta"), bucket_sql_postgresql("v_new")
    skip = ", ".join(f"'{period}'" for period in WITHOUT)
    return (
        f"WITH t AS ({upsert}), "
        f"v AS (SELECT scope, period, start, 'p' AS base, points AS v_new, %s::bigint AS v_delta FROM t "
        f"WHERE period NOT IN ({skip}) "
        f"UNION ALL SELECT scope, period, start, 'x', xp, %s::bigint FROM t WHERE period NOT IN ({skip}) "
        f"UNION ALL SELECT 0, %s, %s::date, 'p', %s::bigint, %s::bigint "
        f"UNION ALL SELECT 0, %s, %s::date, 'x', %s::bigint, %s::bigint), "
        f"w AS (SELECT scope, period, start, base, CASE WHEN v_new - v_delta > 0 THEN {was} END AS was, "
        f"CASE WHEN v_new > 0 THEN {now} END AS now FROM v) "
        f"INSERT INTO {table} ({names}, members) "
        f"SELECT scope, period, start, base, was, -1 FROM w WHERE was IS NOT NULL AND was IS DISTINCT FROM now "
        f"UNION ALL SELECT scope, period, start, base, now, 1 FROM w WHERE now IS NOT NULL AND was IS DISTINCT FROM now"
    )


def moves_params(*, balances: tuple[int, int], delta: tuple[int, int]) -> list:
    """The params ``with_moves`` adds after the upsert's: the deltas, then the member's balances (the
    global board's values, read under the member's lock)."""
    _, period, start = GLOBAL
    return [delta[0], delta[1], period, start, balances[0], delta[0], period, start, balances[1], delta[1]]


@cache
def _insert_sql(count: int) -> str:
    names = config_sql.columns(LeaderboardBucket, names=("scope", "period", "start", "base", "bucket", "members"))
    values = ", ".join([f"({config_sql.placeholders(6)})"] * count)
    return f"INSERT INTO {config_sql.table(LeaderboardBucket)} ({names}) VALUES {values}"


def record(rows: list[tuple]) -> None:
    """Append ``rows`` (one multi-row INSERT; nothing when no bucket changed)."""
    if rows:
        config_sql.execute(_insert_sql(len(rows)), [value for row in rows for value in row])


# --- Reads -------------------------------------------------------------------------------------------


def above_sql(board: tuple, base: str, value: int) -> tuple[str, list]:
    """SQL for the members (hidden ones included) in buckets above ``value``'s, and its params."""
    table = config_sql.table(LeaderboardBucket)
    sql = (f"SELECT COALESCE(SUM(members), 0) FROM {table} WHERE scope = %s AND period = %s AND start = %s "
           f"AND base = %s AND bucket >= %s")
    return sql, [*board, BASE_CODE[base], bucket_end(value)]


# --- Maintenance -------------------------------------------------------------------------------------


def compact() -> int:
    """Fold each bucket's rows into one (dropping buckets that sum to zero); returns rows removed.

    Exact while awards keep appending: on PostgreSQL one statement deletes the rows its snapshot sees
    and inserts their sums, so a reader sees either all of them or the sums, and rows committed
    meanwhile are left alone. SQLite serialises writers, so a plain transaction is enough there.
    """
    if connection.vendor == "postgresql":
        return _compact_postgresql()
    with transaction.atomic():
        groups = list(_groups().filter(n__gt=1).values_list("scope", "period", "start", "base", "bucket", "total"))
        removed = 0
        for scope, period, start, base, bucket, total in groups:
            removed += LeaderboardBucket.objects.filter(scope=scope, period=period, start=start, base=base,
                                                        bucket=bucket).delete()[0]
            if total:
                LeaderboardBucket.objects.create(scope=scope, period=period, start=start, base=base, bucket=bucket,
                                                 members=total)
        return removed - sum(1 for group in groups if group[-1])


def _groups():
    return (LeaderboardBucket.objects.values("scope", "period", "start", "base", "bucket")
            .annotate(n=Count("id"), total=Sum("members")).order_by())


def _compact_postgresql() -> int:
    table, key = config_sql.table(LeaderboardBucket), ", ".join(KEY)
    join = " AND ".join(f"t.{k} = d.{k}" for k in KEY)
    sql = (
        f"WITH d AS (SELECT {key} FROM {table} GROUP BY {key} HAVING COUNT(*) > 1), "
        f"gone AS (DELETE FROM {table} t USING d WHERE {join} RETURNING t.{', t.'.join(KEY)}, t.members), "
        f"kept AS (INSERT INTO {table} ({key}, members) SELECT {key}, SUM(members) FROM gone GROUP BY {key} "
        f"HAVING SUM(members) <> 0 RETURNING 1) "
        f"SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM kept)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _expected_sql(member_model, total_model) -> tuple[str, list]:
    """(scope, period, start, base, bucket, members) of every histogram as recomputed from the balances
    and the totals, as one SELECT (for a rebuild, and to verify the maintained one)."""
    qn = connection.ops.quote_name
    members, totals = qn(member_model._meta.db_table), qn(total_model._meta.db_table)
    parts, params = [], []
    for code, column in BASES:
        col = qn(column)
        parts.append(f"SELECT 0 AS scope, %s AS period, %s AS start, %s AS base, {bucket_sql(col)} AS bucket, "
                     f"COUNT(*) AS n FROM {members} WHERE {col} > 0 GROUP BY {bucket_sql(col)}")
        params += [GLOBAL[1], GLOBAL[2], code]
        parts.append(f"SELECT scope, period, start, %s, {bucket_sql(col)}, COUNT(*) FROM {totals} "
                     f"WHERE {col} > 0 AND period NOT IN ({config_sql.placeholders(len(WITHOUT))}) "
                     f"GROUP BY scope, period, start, {bucket_sql(col)}")
        params += [code, *WITHOUT]
    return " UNION ALL ".join(parts), params


def rebuild(member_model=None, total_model=None, bucket_model=None) -> int:
    """Recompute every histogram from the balances and the totals (in the caller's transaction, after
    the totals); returns the rows written. Takes models so that a migration can run it."""
    if member_model is None:
        from engagement.models import Member as member_model
    total_model, bucket_model = total_model or LeaderboardTotal, bucket_model or LeaderboardBucket
    bucket_model.objects.all().delete()
    expected, params = _expected_sql(member_model, total_model)
    target = connection.ops.quote_name(bucket_model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {target} ({', '.join(KEY)}, members) SELECT * FROM ({expected}) e", params)
        return cursor.rowcount


def rebuild_boards(*, period: str, start) -> int:
    """Recompute the histograms of every board of one (period, start), all scopes, from their totals
    (in the caller's transaction); returns the rows written. For code that rewrites a period's totals
    wholesale (a season recomputed from its day rows) instead of through the ledger receiver."""
    LeaderboardBucket.objects.filter(period=period, start=start).delete()
    if not kept(period):
        return 0
    table = connection.ops.quote_name(LeaderboardBucket._meta.db_table)
    totals = connection.ops.quote_name(LeaderboardTotal._meta.db_table)
    written = 0
    with connection.cursor() as cursor:
        for code, column in BASES:
            col = connection.ops.quote_name(column)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(KEY)}, members) SELECT scope, period, start, %s, "
                f"{bucket_sql(col)}, COUNT(*) FROM {totals} WHERE period = %s AND start = %s AND {col} > 0 "
                f"GROUP BY scope, period, start, {bucket_sql(col)}", [code, period, start])
            written += cursor.rowcount
    return written


def mismatches(limit: int = 20) -> list[str]:
    """Buckets whose rows do not add up to the members whose value is in them (empty when exact), in
    one query: the recomputed histograms FULL OUTER JOIN the maintained ones."""
    from engagement.models import Member

    expected, params = _expected_sql(Member, LeaderboardTotal)
    table = config_sql.table(LeaderboardBucket)
    found = f"SELECT {', '.join(KEY)}, SUM(members) AS n FROM {table} GROUP BY {', '.join(KEY)}"
    key = ", ".join(f"COALESCE(e.{k}, f.{k})" for k in KEY)
    same = " AND ".join(f"e.{k} = f.{k}" for k in KEY)
    sql = (f"SELECT {key}, COALESCE(f.n, 0), COALESCE(e.n, 0) FROM ({expected}) e FULL OUTER JOIN ({found}) f "
           f"ON {same} WHERE COALESCE(e.n, 0) <> COALESCE(f.n, 0) ORDER BY 1, 2, 3, 4, 5 LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [f"{scope}/{period}/{start}/{base} bucket {bucket}: histogram {found_n}, actual {expected_n}"
                for scope, period, start, base, bucket, found_n, expected_n in cursor.fetchall()]
