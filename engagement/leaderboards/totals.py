"""Per-board totals in SQL (LeaderboardTotal): kept in the ledger transaction, rebuilt from the ledger.

Scoped and windowed boards read these rows instead of summing up to millions of ledger entries.
"""

from django.db import connection
from django.db.models import DateField, F, IntegerField, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from config import sql as config_sql
from engagement.leaderboards import histogram
from engagement.leaderboards.periods import entry_periods, local_day
from engagement.leaderboards.seasons import season_boards
from engagement.models.leaderboard import EPOCH, LeaderboardTotal

# Buying a reward (and its refund) should not push somebody down this week's board.
SPENDING_REASONS = ("redeem", "redeem_refund", "spend", "refund")


def counts_on_boards(reason: str) -> bool:
    return reason not in SPENDING_REASONS


def _table() -> str:
    return connection.ops.quote_name(LeaderboardTotal._meta.db_table)


def add_entry(*, member_id: int, activity_id: int | None, points: int, xp: int, created,
              listed: bool = True, balances: tuple[int, int] | None = None) -> list[tuple]:
    """Add one entry to its boards' totals: one multi-row upsert, inside the caller's transaction.
    Returns each changed board's (scope, period, start, points, xp) after the entry.

    With ``balances`` (the member's points and XP after the entry; PostgreSQL only, see
    ``histogram.folds_into_upsert``) the same statement also appends the entry's rank histogram rows,
    computed from its own RETURNING, and returns nothing.

    The (scope, period, start, member) rows of one member are only written under that member's
    row lock (services.lock_member), so the increments never race with each other; ``listed`` is the
    member's, as read under that lock (a new row copies it; an existing row already has it).
    """
    boards = entry_periods(created=created, activity_id=activity_id)
    boards += season_boards(day=local_day(created), activity_id=activity_id)
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(boards))
    params = [v for scope, period, start in boards for v in (scope, period, start, member_id, points, xp, listed)]
    table = _table()
    sql = (
        f"INSERT INTO {table} (scope, period, start, member_id, points, xp, listed) VALUES {rows} "
        f"ON CONFLICT (scope, period, start, member_id) DO UPDATE "
        f"SET points = {table}.points + excluded.points, xp = {table}.xp + excluded.xp "
        f"RETURNING scope, period, start, points, xp"
    )
    if balances is not None:
        config_sql.execute(histogram.with_moves(sql), params + histogram.moves_params(balances=balances,
                                                                                     delta=(points, xp)))
        return []
    return config_sql.execute(sql, params).fetchall()  # on every award: a prepared statement on PostgreSQL


def sync_listed(*, member_id: int | None = None, total_model=None, member_model=None) -> int:
    """Set the rows' ``listed`` to their member's (one member's rows, or all); returns the rows changed.

    Called under the member's row lock after their flags changed (index.listing_changed), and after a
    rebuild of the totals; takes models so that a migration can run it. Two index-driven UPDATEs: rows
    of hidden members that are marked listed, and rows of listed members that are not.
    """
    if member_model is None:
        from engagement.models import Member as member_model
    total_model = total_model or LeaderboardTotal
    hidden = member_model.objects.exclude(show_on_leaderboard=True, banned=False)
    rows = total_model.objects.all()
    if member_id is not None:
        hidden, rows = hidden.filter(pk=member_id), rows.filter(member_id=member_id)
    changed = rows.filter(listed=True, member_id__in=hidden.values("pk")).update(listed=False)
    return changed + rows.filter(listed=False).exclude(member_id__in=hidden.values("pk")).update(listed=True)


def listed_mismatches(limit: int = 20) -> list[str]:
    """Rows whose ``listed`` is not their member's (empty when exact)."""
    from engagement.models import Member

    hidden = Member.objects.exclude(show_on_leaderboard=True, banned=False).values("pk")
    wrong = (LeaderboardTotal.objects.filter(listed=True, member_id__in=hidden)
             | LeaderboardTotal.objects.filter(listed=False).exclude(member_id__in=hidden))
    return [f"{scope}/{period}/{start} member {member_id}: listed {listed}, member's {not listed}"
            for scope, period, start, member_id, listed in
            wrong.order_by("member_id", "scope", "period", "start")
            .values_list("scope", "period", "start", "member_id", "listed")[:limit]]


COLUMNS = "scope, period, start, member_id, points, xp"
# The SELECT aliases that fill COLUMNS (annotations may not reuse the models' field names).
ALIASES = ("b_scope", "b_period", "b_start", "member_id", "s_points", "s_xp")


def insert_select(queryset) -> int:
    """INSERT the rows of ``queryset`` (whose SELECT names ALIASES) into the totals."""
    sql, params = queryset.query.sql_with_params()
    select = ", ".join(f"sub.{connection.ops.quote_name(n)}" for n in ALIASES)
    with connection.cursor() as cursor:
        # In key order, so the unique and board indexes are filled left to right rather than at random.
        cursor.execute(f"INSERT INTO {_table()} ({COLUMNS}) SELECT {select} FROM ({sql}) sub ORDER BY {select}", params)
        return cursor.rowcount


def _day_rows(entry_model, *, by_activity: bool):
    entries = entry_model.objects.exclude(reason__in=SPENDING_REASONS)
    if by_activity:
        entries = entries.filter(activity__isnull=False)
        scope = F("activity_id")
    else:
        scope = Value(0, output_field=IntegerField())
    return (
        entries.annotate(b_scope=scope, b_start=TruncDate("created", tzinfo=timezone.get_current_timezone()))
        .values("b_scope", "b_start", "member_id")
        .annotate(b_period=Value("d"), s_points=Sum("points"), s_xp=Sum("xp"))
        .order_by()
    )


def _rolled_up(total_model, *, period: str, start_expr):
    days = total_model.objects.filter(period="d")
    if period == "a":
        days = days.exclude(scope=0)
    return (
        days.annotate(b_scope=F("scope"), b_start=start_expr)
        .values("b_scope", "b_start", "member_id")
        .annotate(b_period=Value(period), s_points=Sum("points"), s_xp=Sum("xp"))
        .order_by()
    )


def rebuild_totals(entry_model=None, total_model=None) -> int:
    """Recompute every total from the ledger (in the caller's transaction); returns the rows written.

    Takes the model classes so that a data migration can run it with its historical models.
    """
    if entry_model is None:
        from engagement.models import LedgerEntry as entry_model
    total_model = total_model or LeaderboardTotal
    total_model.objects.all().delete()
    written = insert_select(_day_rows(entry_model, by_activity=False))
    written += insert_select(_day_rows(entry_model, by_activity=True))
    # Weeks, months and activities' lifetimes are sums of days: no second pass over the ledger.
    rollups = (("w", TruncWeek("start")), ("m", TruncMonth("start")), ("a", Value(EPOCH, output_field=DateField())))
    for period, start_expr in rollups:
        written += insert_select(_rolled_up(total_model, period=period, start_expr=start_expr))
    return written  # every row listed (the column's default): the caller runs sync_listed() afterwards
