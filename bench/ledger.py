#!/usr/bin/env python
"""Ledger write throughput on PostgreSQL: ``engagement.services.award`` against a raw-psycopg floor.

Both sides run in the same run, on the same fresh database, in N worker processes (like gunicorn
workers), each awarding to its own slice of members. The floor replays the exact statements one real
award() sends (captured at start-up: rule and campaign lookups, member row lock, idempotency-key lookup,
savepoint, balance UPDATE, INSERT of the entry, leaderboard totals, commit) straight through psycopg,
with no ORM, no signals and no Python domain logic: what the ORM path can approach, not beat.

    .venv/bin/python bench/ledger.py [--awards 8000] [--workers 4] [--members 2000] [--rounds 5]
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _floor  # noqa: E402
from _common import recreate_database, setup_django, summary  # noqa: E402

# BENCH_DB: another name, when several people bench on one PostgreSQL.
DB_NAME = os.environ.get("BENCH_DB", "plaudit_bench_ledger")
# Tasks enqueued after commit (achievement evaluation, leaderboard index) go to an in-memory broker,
# as they would go to Redis in production, instead of running inline in the measured process.
DJANGO_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": "memory://", "REDIS_URL": ""}


def prepare(url: str, members: int) -> None:
    setup_django(url, **DJANGO_ENV)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from engagement.models import EarningRule, Member

    call_command("migrate", verbosity=0)
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"bench-{i}") for i in range(members)], batch_size=5000)
    Member.objects.bulk_create([Member(user=u) for u in users], batch_size=5000, ignore_conflicts=True)
    EarningRule.objects.get_or_create(reason="bench_award", defaults={"points": 1, "xp": 1})


def orm_worker(url: str, member_ids: list[int], statements, worker: str, awards: int, queue, go) -> None:
    setup_django(url, **DJANGO_ENV)
    from django.db import connection

    from engagement import services
    from engagement.models import Member

    members = list(Member.objects.filter(pk__in=member_ids))
    connection.ensure_connection()
    queue.put("ready")
    go.wait()
    latencies = []
    for i in range(awards):
        started = time.perf_counter()
        services.award(member=members[i % len(members)], reason="bench_award",
                       idempotency_key=f"orm:{worker}:{i}")
        latencies.append(time.perf_counter() - started)
    queue.put(latencies)


def capture_statements(url: str) -> list[tuple[str, list]]:
    """Record the (sql, params) of one real award() call, marking which params are the member id and the
    idempotency key. The floor replays exactly these statements, so it stays "the same statements"
    whatever receivers (leaderboard totals, outbox, campaigns) the service path gains."""
    from django.db import connection

    from engagement import services
    from engagement.models import Member

    member = Member.objects.order_by("pk").first()
    key, calls = "capture:statement-shapes", []
    # One award first, so that what we record is the steady state: per-process caches (the achievement
    # triggers, refreshed every 30 s) are warm, as they are for all but a few awards in a run.
    services.award(member=member, reason="bench_award", idempotency_key=key + ":warm-up")

    def record(execute, sql, params, many, context):
        calls.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        services.award(member=member, reason="bench_award", idempotency_key=key)
    marks = {member.pk: "member", key: "key"}

    def plain(value):
        # Django wraps JSON in psycopg's Jsonb with its own encoder, which cannot travel to a process
        # without Django; the same JSON as text is what PostgreSQL receives anyway.
        if hasattr(value, "obj") and type(value).__name__ == "Jsonb":
            return json.dumps(value.obj)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | str):
            # Plain builtins: choices enums (str/int subclasses defined in the models) pickle by reference.
            value = int(value) if isinstance(value, int) else str(value)
            return marks.get(value, value)
        return value

    return [(sql, [plain(p) for p in params]) for sql, params in calls]


def raw_worker(url: str, member_ids: list[int], statements, worker: str, awards: int, queue, go) -> None:
    import psycopg

    latencies = []
    with psycopg.connect(url) as conn:
        queue.put("ready")
        go.wait()
        for i in range(awards):
            values = {"member": member_ids[i % len(member_ids)], "key": f"raw:{worker}:{i}"}
            started = time.perf_counter()
            with conn.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, [values.get(p, p) if isinstance(p, str) else p for p in params])
            conn.commit()
            latencies.append(time.perf_counter() - started)
    queue.put(latencies)


def run(target, url: str, member_ids: list[int], awards: int, workers: int, statements=None):
    """Run ``target`` in ``workers`` processes (bench/_floor.run: the clock leaves out start-up), each
    awarding to its own slice of the members; idempotency keys are unique per run and worker."""
    per_worker = awards // workers
    return _floor.run(target, [(url, member_ids[w::workers], statements) for w in range(workers)], per_worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--awards", type=int, default=8000, help="awards per side and round")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    url = recreate_database(DB_NAME)
    prepare(url, args.members)
    from engagement.models import Member

    member_ids = list(Member.objects.values_list("pk", flat=True))
    statements = capture_statements(url)
    # Warm up both paths (imports, connections, plans) before measuring.
    run(raw_worker, url, member_ids, args.workers * 50, args.workers, statements)
    run(orm_worker, url, member_ids, args.workers * 50, args.workers)
    print(f"ledger award, {args.workers} processes, {args.awards} awards each side and round, "
          f"{len(member_ids)} members, {len(statements)} statements + commit per award")
    # Rounds alternate which side goes first, and each round's ratio compares two runs seconds apart,
    # so a change in the machine's load (this is a shared 2-core box) hits both sides of a ratio alike.
    ratios, raw_all, orm_all = [], [], []
    for r in range(args.rounds):
        sides = [("raw", raw_worker, statements), ("orm", orm_worker, None)]
        result = {}
        for name, target, stmts in sides if r % 2 == 0 else sides[::-1]:
            result[name] = run(target, url, member_ids, args.awards, args.workers, stmts)
        (raw_rate, raw_lat), (orm_rate, orm_lat) = result["raw"], result["orm"]
        raw_all += raw_lat
        orm_all += orm_lat
        ratios.append(orm_rate / raw_rate)
        print(f"  round {r + 1}: floor {raw_rate:6.0f}/s, service {orm_rate:6.0f}/s, ratio {ratios[-1]:.2f}")
    print(f"  raw psycopg floor  latency: {summary(raw_all)}")
    print(f"  award() service    latency: {summary(orm_all)}")
    print(f"  ratio service/floor: median {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    from django.core.management import call_command

    # Balances only: the floor replays one award's captured statements verbatim, rank histogram rows
    # included, which are right only for that award (the histogram's exactness is the test suite's).
    call_command("verify_ledger", "--no-progress", "--ledger-only")


if __name__ == "__main__":
    main()
