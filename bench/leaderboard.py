"""Leaderboard latency at scale: top-100 and own rank for every metric × scope × window.

Builds a dedicated PostgreSQL database (default ``plaudit_bench_lb``; dropped and re-created unless
``--reuse``), loads members with COPY and ledger entries with one server-side INSERT … SELECT, derives
the leaderboard totals with the same code the project uses (``rebuild_totals``) and the Redis index
with ``rebuild_index``, then measures through ``engagement.leaderboards.leaderboard``:

* Plaudit via Redis, Plaudit via SQL (the fallback path), and
* a naive SQL baseline in the same run: ``SUM … GROUP BY … ORDER BY … LIMIT 100`` over the raw ledger,
  and the rank as ``COUNT(*)`` of the members whose sum beats the viewer's.

Usage (not run by CI; the full scale takes a while on 2 cores):

    .venv/bin/python bench/leaderboard.py                       # 1,000,000 members, 10,000,000 entries
    .venv/bin/python bench/leaderboard.py --members 50000 --entries 500000 --samples 100
    .venv/bin/python bench/leaderboard.py --seasons-only --db plaudit_bench_seasons   # seasons and teams
    .venv/bin/python bench/leaderboard.py --sql-only --no-seasons --entries 3000000 --reuse   # SQL ranks only

Seasons and teams (always measured; ``--seasons-only`` skips the Redis index and the 24 window boards):
a running season over the last 90 days and an ended one before it, every member in one of
``--teams`` teams. Times the season boards (SQL totals of period "s", every metric × scope), the close
of the ended season (exact recompute, standings, prizes) and its frozen board, and the team board
(one GROUP BY of the memberships joined to the season totals), next to this month's board.
"""

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METRICS = ("points", "xp", "level")
WINDOWS = ("all", "day", "week", "month")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--activities", type=int, default=10)
    parser.add_argument("--days", type=int, default=365, help="Entries are spread over this many past days.")
    parser.add_argument("--samples", type=int, default=200, help="Timed calls per board and question.")
    parser.add_argument("--naive-samples", type=int, default=3, help="Timed calls of the naive baseline.")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
                        help="PostgreSQL server URL without a database name.")
    parser.add_argument("--db", default="plaudit_bench_lb")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--reuse", action="store_true", help="Keep the existing database and index.")
    parser.add_argument("--keep-redis", action="store_true", help="Leave the Redis index in place afterwards.")
    parser.add_argument("--seasons-only", action="store_true", help="Only the season and team boards.")
    parser.add_argument("--teams", type=int, default=20, help="Teams of the running season (every member joins).")
    parser.add_argument("--sql-only", action="store_true",
                        help="Only the SQL path of the 24 window boards: no Redis index (its build is the slow part).")
    parser.add_argument("--no-seasons", action="store_true", help="Skip the season and team boards after the windows.")
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = f"{args.pg}/{args.db}"
    os.environ["REDIS_URL"] = args.redis
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ENGAGEMENT_LEADERBOARD_REDIS = True
    settings.ENGAGEMENT_LEADERBOARD_PREFIX = "bench:lb"


def recreate_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
        conn.execute(f'CREATE DATABASE "{args.db}"')


def step(label: str):
    class Step:
        def __enter__(self):
            self.t = time.perf_counter()
            print(f"  {label} …", end="", flush=True)

        def __exit__(self, *exc):
            print(f" {time.perf_counter() - self.t:.1f} s", flush=True)

    return Step()


# --- Data ---------------------------------------------------------------------------------------------------


def copy_rows(cursor, table: str, columns: str, rows) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for i, row in enumerate(rows, 1):
            buffer.write("\t".join(row) + "\n")
            if i % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def load(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    with step("migrate"):
        call_command("migrate", verbosity=0)
    rng = random.Random(42)
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        # Bench data is consistent by construction: skip the per-row FK triggers while bulk loading.
        cursor.execute("SET session_replication_role = replica")
        with step(f"COPY {args.members:,} users and members"):
            copy_rows(cursor, "auth_user", "id, username, password, email, first_name, last_name, is_superuser, "
                      "is_staff, is_active, date_joined",
                      ((str(i), f"m{i}", "!", f"m{i}@bench.invalid", "", "", "f", "f", "t", "2026-01-01 00:00+00")
                       for i in range(1, args.members + 1)))
            # 1 % opted out of leaderboards, the rest visible.
            copy_rows(cursor, "engagement_member", "id, user_id, username, points, xp, level, avatar_url, "
                      "animated_avatar_url, avatar_upload_unlocked, show_on_leaderboard, banned, created",
                      ((str(i), str(i), f"fan-{i}", "0", "0", "1", "", "", "f", "f" if rng.random() < 0.01 else "t",
                        "f", "2026-01-01 00:00+00") for i in range(1, args.members + 1)))
            copy_rows(cursor, "engagement_activity", "id, name, slug, active, created",
                      ((str(i), f"Activity {i}", f"a{i}", "t", "2026-01-01 00:00+00")
                       for i in range(1, args.activities + 1)))
            cursor.execute("SELECT setval('auth_user_id_seq', %s), setval('engagement_member_id_seq', %s)",
                           [args.members, args.members])
        load_entries(cursor, args)
        load_seasons(cursor, args)
        from engagement.leaderboards import index

        with step("leaderboard totals from the ledger (rebuild_totals, indexes built afterwards)"):
            restore = drop_indexes(cursor, "engagement_leaderboardtotal")
            rows = index.rebuild_totals()
            for definition in restore:
                cursor.execute(definition)
        cursor.execute("SET session_replication_role = DEFAULT")
    print(f"    {rows:,} total rows")
    with step("VACUUM ANALYZE"):
        connection.cursor().execute("VACUUM ANALYZE")


def drop_indexes(cursor, table: str, keep: str = "") -> list[str]:
    """Drop a table's secondary indexes (and unique constraints); return the SQL that recreates them."""
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s "
                   "AND indexname <> %s", [table, "%pkey", keep])
    definitions = []
    for name, definition in cursor.fetchall():
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [name])
        if cursor.fetchone():
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            definitions.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")
            definitions.insert(len(definitions) - 1, definition)
        else:
            cursor.execute(f"DROP INDEX {name}")
            definitions.append(definition)
    return definitions


def load_entries(cursor, args: argparse.Namespace) -> None:
    # Member ids skewed towards low ids (random()^2), so a few members are very active, as in real clubs.
    # Entries are awards only (balances stay >= 0); 15 % carry an activity.
    with step("drop the ledger's secondary indexes for the bulk load"):
        definitions = drop_indexes(cursor, "engagement_ledgerentry")
    with step(f"INSERT … SELECT {args.entries:,} ledger entries"):
        cursor.execute(
            """
            INSERT INTO engagement_ledgerentry (member_id, points, xp, reason, activity_id, meta, request_hash, created)
            SELECT 1 + floor(power(random(), 2) * %(members)s)::bigint,
                   p, p,
                   (ARRAY['comment_create', 'poll_vote', 'checkin', 'claim'])[1 + floor(random() * 4)::int],
                   CASE WHEN random() < 0.15 THEN 1 + floor(random() * %(activities)s)::bigint END,
                   '{}'::jsonb, '',
                   now() - random() * make_interval(days => %(days)s)
            FROM (SELECT (ARRAY[1, 2, 3, 5, 5, 10, 12, 20])[1 + floor(random() * 8)::int] AS p
                  FROM generate_series(1, %(entries)s)) g
            """,
            {"members": args.members, "activities": args.activities, "days": args.days, "entries": args.entries},
        )
    with step("recreate the ledger's indexes"):
        for definition in definitions:
            cursor.execute(definition)
    with step("member balances and levels from the ledger"):
        cursor.execute(
            """
            UPDATE engagement_member m SET points = s.p, xp = s.x,
                   level = LEAST(200, floor((1 + sqrt(1 + 4 * floor(s.x / 50))) / 2))::int
            FROM (SELECT member_id, SUM(points) p, SUM(xp) x FROM engagement_ledgerentry GROUP BY member_id) s
            WHERE m.id = s.member_id
            """
        )


def load_seasons(cursor, args: argparse.Namespace) -> None:
    """A running season (the last 90 days and the next 30), an ended one (the 90 days before), and
    ``--teams`` teams of the running season with every member in one (round robin)."""
    from django.utils import timezone

    from engagement.leaderboards.periods import local_day
    from engagement.models import Season, Team

    today = local_day(timezone.now())
    running = Season.objects.create(slug="running", name="Running", starts=today - dt.timedelta(days=89),
                                    ends=today + dt.timedelta(days=30))
    Season.objects.create(slug="ended", name="Ended", starts=today - dt.timedelta(days=179),
                          ends=today - dt.timedelta(days=90),
                          prizes=[{"rank_to": 1, "points": 1000, "xp": 100}, {"rank_to": 100, "points": 50, "xp": 0}])
    teams = [Team.objects.create(season=running, slug=f"t{i}", name=f"Team {i}").pk for i in range(args.teams)]
    with step(f"{args.members:,} team memberships"):
        cursor.execute(
            "INSERT INTO engagement_teammembership (season_id, team_id, member_id, joined) "
            "SELECT %s, (%s::bigint[])[1 + (id %% %s)], id, now() FROM engagement_member",
            [running.pk, teams, len(teams)])


# --- Timing ---------------------------------------------------------------------------------------------------


def timed(fn, samples: int) -> list[float]:
    fn()  # warm caches and connections
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def viewers_on(board_filter: dict, n: int) -> list[int]:
    from engagement.models import LeaderboardTotal, Member

    if not board_filter:
        ids = list(Member.objects.filter(points__gt=0, show_on_leaderboard=True).order_by("?")
                   .values_list("id", flat=True)[:n])
    else:
        ids = list(LeaderboardTotal.objects.filter(**board_filter, points__gt=0).order_by("?")
                   .values_list("member_id", flat=True)[:n])
    return ids or [1]


def naive_queries(activity_id, since):
    """The baseline: a GROUP BY over the raw ledger for the top, and COUNT(*) of better sums for a rank."""
    where, params = ["1 = 1"], []
    if activity_id is not None:
        where.append("activity_id = %s")
        params.append(activity_id)
    if since is not None:
        where.append("created >= %s")
        params.append(since)
    sums = (f"SELECT member_id, SUM(points) AS s FROM engagement_ledgerentry WHERE {' AND '.join(where)} "
            "GROUP BY member_id")
    top = (f"{sums} ORDER BY s DESC, member_id LIMIT 100", params)
    rank = (f"SELECT COUNT(*) + 1 FROM ({sums}) t WHERE t.s > (SELECT COALESCE(SUM(points), 0) "
            f"FROM engagement_ledgerentry WHERE member_id = %s AND {' AND '.join(where)})")
    return top, (rank, params)


def run_naive(activity, window, viewers, samples):
    from django.db import connection

    from engagement.leaderboards import window_start

    top, (rank_sql, params) = naive_queries(activity.pk if activity else None, window_start(window))
    with connection.cursor() as cursor:
        top_ms = timed(lambda: cursor.execute(*top) or cursor.fetchall(), samples)
        it = iter(viewers * (samples + 1))
        rank_ms = timed(lambda: cursor.execute(rank_sql, [*params, next(it), *params]) or cursor.fetchone(), samples)
    return top_ms, rank_ms


# What the rows loaded before they became plain values (Member + User instances), timed for comparison.
INSTANCE_FIELDS = (
    "username", "points", "xp", "level", "avatar_url", "animated_avatar_url", "show_on_leaderboard", "banned",
    "user__username", "user__first_name", "user__last_name", "user__email", "user__is_staff", "user__is_superuser",
)


def top_with_instances(index_source) -> list:
    """The former way to a top-100 with rows: ids from the index, then in_bulk Member + User instances."""
    from engagement.models import Member

    top = index_source.top(100)
    members = Member.objects.select_related("user").only(*INSTANCE_FIELDS).in_bulk([m for m, _, _ in top])
    return [members[m] for m, _, _ in top if m in members]


def rank_by_index_count(source, spec, viewer) -> int | None:
    """The former own rank without Redis: an index-only COUNT of everybody above (minus the hidden)."""
    from engagement import levels

    mine = source.member_values(viewer.pk)
    if mine is None:
        return None
    if spec.metric != "level":
        return source.count_above_by_index(mine[0]) + 1
    level = levels.level_for_xp(mine[0])
    return 1 if level >= levels.level_cap() else source.count_above_by_index(levels.xp_for_level(level + 1) - 1) + 1


def time_board(row: dict, source: str, use_redis: bool, *, metric, activity, window, viewers, samples) -> None:
    from engagement.leaderboards import _Spec, leaderboard, redis_index
    from engagement.leaderboards.sql import SqlSource
    from engagement.serializers import LeaderboardRowSerializer

    query = {"metric": metric, "activity": activity, "window": window, "use_redis": use_redis}
    probe = leaderboard(**query, limit=100)
    assert probe.source == source, f"the {source} path was not used"
    row[f"{source}_top"] = timed(lambda: leaderboard(**query, limit=100), samples)
    # The index's own cost: the same top-100 without turning ids into rows.
    spec = _Spec(metric=metric, activity=activity, window=window, at=None)
    coords = {"scope": spec.scope, "period": spec.period, "start": spec.start, "base": spec.base}
    index_source = redis_index.RedisSource(**coords) if use_redis else SqlSource(**coords)
    row[f"{source}_ids"] = timed(lambda: index_source.top(100), samples)
    row[f"{source}_instances"] = timed(lambda: top_with_instances(index_source), samples)
    row[f"{source}_json"] = timed(lambda: LeaderboardRowSerializer(probe.items, many=True).data, samples)
    it = iter(viewers * (samples + 2))
    row[f"{source}_rank"] = timed(lambda: leaderboard(**query, limit=0, viewer=next(it)), samples)
    if not use_redis:
        it = iter(viewers * (samples + 2))
        row["sql_rank_count"] = timed(lambda: rank_by_index_count(index_source, spec, next(it)), samples)
        # The two ways agree (the test suite proves it; this is the same data). Hidden viewers have no rank.
        for viewer in [v for v in viewers if v.listed][:20]:
            me = leaderboard(**query, limit=0, viewer=viewer).me
            assert (me.rank if me else None) == rank_by_index_count(index_source, spec, viewer), (query, viewer.pk)


def measure(args: argparse.Namespace) -> list[dict]:
    from django.utils import timezone

    from engagement.leaderboards.periods import PERIOD_OF_WINDOW, local_day, period_start
    from engagement.models import Activity, Member

    activity = Activity.objects.get(slug="a1")
    today = local_day(timezone.now())
    results = []
    for window in WINDOWS:
        for scope in (None, activity):
            period = PERIOD_OF_WINDOW.get(window, "a")
            board = {} if scope is None and window == "all" else {
                "scope": scope.pk if scope else 0, "period": period, "start": period_start(period, today)}
            viewer_ids = viewers_on(board, min(args.samples, 200))
            viewers = list(Member.objects.filter(pk__in=viewer_ids))
            naive = run_naive(scope, window, viewer_ids, args.naive_samples) if args.naive_samples else None
            for metric in METRICS:
                row = {"metric": metric, "scope": "activity" if scope else "global", "window": window}
                sources = (("sql", False),) if args.sql_only else (("redis", True), ("sql", False))
                for source, use_redis in sources:
                    time_board(row, source, use_redis, metric=metric, activity=scope, window=window, viewers=viewers,
                               samples=args.samples)
                if naive and metric == "points":
                    row["naive_top"], row["naive_rank"] = naive
                results.append(row)
                report(row)
    return results


COLUMNS = ("redis_top", "redis_instances", "redis_ids", "redis_rank", "sql_top", "sql_instances", "sql_ids",
           "sql_json", "sql_rank", "sql_rank_count", "naive_top", "naive_rank")


def measure_seasons(args: argparse.Namespace) -> None:
    from django.db import connection

    from engagement import seasons
    from engagement.leaderboards import _Spec, leaderboard
    from engagement.leaderboards.sql import SqlSource
    from engagement.models import Activity, Member, Season

    running, ended = Season.objects.get(slug="running"), Season.objects.get(slug="ended")
    activity = Activity.objects.get(slug="a1")
    n = min(args.samples, 200)
    print("\nSeasons (SQL; p50 / p99 ms): top-100 with rows | ids only | own rank")
    for scope in (None, activity):
        board = {"scope": scope.pk if scope else 0, "period": "s", "start": running.starts}
        viewers = list(Member.objects.filter(pk__in=viewers_on(board, n)))
        for metric in METRICS:
            query = {"metric": metric, "activity": scope, "season": running}
            spec = _Spec(metric=metric, activity=scope, window="all", at=None, season=running)
            source = SqlSource(scope=spec.scope, period=spec.period, start=spec.start, base=spec.base)
            it = iter(viewers * (args.samples + 2))
            row = [timed(lambda q=query: leaderboard(**q, limit=100), args.samples),
                   timed(lambda s=source: s.top(100), args.samples),
                   timed(lambda q=query, it=it: leaderboard(**q, limit=0, viewer=next(it)), args.samples)]
            print(f"| season {metric:6} | {'activity' if scope else 'global':8} | "
                  + " | ".join(f"{pct(v, .5):7.2f} {pct(v, .99):7.2f}" for v in row) + " |", flush=True)
    month_viewers = list(Member.objects.filter(pk__in=viewers_on(
        {"scope": 0, "period": "m", "start": running.starts.replace(day=1)}, n)))
    it = iter(month_viewers * (args.samples + 2))
    month = [timed(lambda: leaderboard(window="month", use_redis=False, limit=100), args.samples),
             timed(lambda: leaderboard(window="month", use_redis=False, limit=0, viewer=next(it)), args.samples)]
    print(f"| month (same run) points global | top {pct(month[0], .5):.2f} {pct(month[0], .99):.2f} "
          f"| rank {pct(month[1], .5):.2f} {pct(month[1], .99):.2f} |")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM engagement_leaderboardtotal WHERE period = 's' AND scope = 0 "
                       "AND start = %s", [running.starts])
        print(f"  running season board: {cursor.fetchone()[0]:,} members")
    team = timed(lambda: seasons.team_board(season=running, live=True), min(args.samples, 20))  # the GROUP BY
    print(f"Team board ({args.teams} teams, {args.members:,} memberships): p50 {pct(team, .5):.1f} "
          f"p99 {pct(team, .99):.1f} ms", flush=True)
    t = time.perf_counter()
    result = seasons.close_season(season_id=ended.pk)
    print(f"Close of the ended season: {time.perf_counter() - t:.1f} s, {result.standings:,} standings, "
          f"{result.prizes} prizes", flush=True)
    ended.refresh_from_db()
    frozen_viewers = list(Member.objects.filter(standings_of_bench(ended, n)))
    it = iter(frozen_viewers * (args.samples + 2))
    frozen = [timed(lambda: leaderboard(season=ended, limit=100), args.samples),
              timed(lambda: leaderboard(season=ended, limit=0, viewer=next(it)), args.samples)]
    print(f"| frozen season points global | top {pct(frozen[0], .5):.2f} {pct(frozen[0], .99):.2f} "
          f"| rank {pct(frozen[1], .5):.2f} {pct(frozen[1], .99):.2f} |", flush=True)


def standings_of_bench(season, n: int):
    from django.db.models import Q

    from engagement.models import SeasonStanding

    ids = list(SeasonStanding.objects.filter(season=season).order_by("?").values_list("member_id", flat=True)[:n])
    return Q(pk__in=ids or [1])


def report(row: dict) -> None:
    def cell(key):
        values = row.get(key)
        return f"{pct(values, .5):7.2f} {pct(values, .99):7.2f}" if values else f"{'–':>7} {'–':>7}"

    ratio = ""
    if row.get("naive_top") and row.get("redis_top"):
        ratio = (f"  naive/redis top ×{statistics.median(row['naive_top']) / statistics.median(row['redis_top']):,.0f}"
                 f" rank ×{statistics.median(row['naive_rank']) / statistics.median(row['redis_rank']):,.0f};"
                 f" naive/sql top ×{statistics.median(row['naive_top']) / statistics.median(row['sql_top']):,.0f}"
                 f" rank ×{statistics.median(row['naive_rank']) / statistics.median(row['sql_rank']):,.0f}")
    cells = " | ".join(cell(key) for key in COLUMNS)
    print(f"| {row['metric']:6} | {row['scope']:8} | {row['window']:5} | {cells} |{ratio}", flush=True)


def summarise(results: list[dict]) -> None:
    """Worst p50 and p99 over the boards, per column: the figures the issue's targets are about."""
    print("\nworst over the boards (p50 / p99 ms):")
    for key in COLUMNS:
        cells = [r[key] for r in results if r.get(key)]
        if cells:
            print(f"  {key:16} {max(pct(c, .5) for c in cells):8.2f} {max(pct(c, .99) for c in cells):8.2f}")


def prepare_redis(args: argparse.Namespace) -> None:
    import redis

    from engagement.leaderboards import index, redis_index

    if args.sql_only:
        print("  SQL path only: no Redis index")
        return
    if args.reuse and redis_index.is_ready():
        print("  reusing the Redis index")
    else:
        with step("Redis index (rebuild_index)"):
            # The app's 250 ms socket timeout is for reads; bulk pipelines on a busy machine need longer.
            fast_client = redis_index.client
            redis_index.client = lambda: redis.Redis.from_url(args.redis, socket_timeout=60)
            try:
                index.rebuild_index()
            finally:
                redis_index.client = fast_client
    print(f"  Redis memory: {redis_index.client().info('memory')['used_memory_human']}\n")


def main() -> None:
    args = parse_args()
    if not args.reuse:
        recreate_database(args)
    setup_django(args)
    from engagement.leaderboards import redis_index

    print(f"Leaderboard bench: {args.members:,} members, {args.entries:,} entries over {args.days} days, "
          f"{args.activities} activities; database {args.db}, Redis {args.redis}")
    if not args.reuse:
        load(args)
    if args.reuse:
        from django.core.management import call_command

        with step("migrate (a reused database may predate this code's migrations)"):
            call_command("migrate", verbosity=0)
    if args.seasons_only:
        measure_seasons(args)
        return
    prepare_redis(args)
    print("p50 / p99 in ms; top = top-100 with rows (plain values), instances = the same with Member + User "
          "instances (before), json = serialising the 100 rows, rank = own rank (limit=0; SQL: histogram), "
          "rank_count = the SQL rank by index COUNT (before)")
    print(f"| metric | scope | window | {' | '.join(COLUMNS)} |")
    summarise(measure(args))
    if not args.no_seasons:
        measure_seasons(args)
    if not args.keep_redis and not args.sql_only:
        client = redis_index.client()
        for key in client.scan_iter(match="bench:lb:*", count=1000):
            client.unlink(key)


if __name__ == "__main__":
    main()
