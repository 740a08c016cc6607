#!/usr/bin/env python
"""Ledger write throughput on PostgreSQL: ``engagement.services.award`` against a raw-psycopg floor.

Both sides run in the same run, on the same fresh database, in N worker processes (like gunicorn
workers), each awarding to its own slice of members. The floor replays the exact statements one real
award() sends (captured at start-up: rule and campaign lookups, member row lock, idempotency-key lookup,
savepoint, balance UPDATE, INSERT of the entry, leaderboard totals, commit) straight through psycopg,
with no ORM, no signals and no Python domain logic: what the ORM path can approach, not beat.

    .venv/bin/python bench/ledger.py [--awards 4000] [--workers 4] [--members 2000]
"""

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path
from queue import Empty

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import recreate_database, setup_django, summary  # noqa: E402

DB_NAME = "plaudit_bench_ledger"
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


def orm_worker(url: str, worker: str, member_ids: list[int], awards: int, queue, statements=None) -> None:
    setup_django(url, **DJANGO_ENV)
    from engagement import services
    from engagement.models import Member

    members = list(Member.objects.filter(pk__in=member_ids))
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


def raw_worker(url: str, worker: str, member_ids: list[int], awards: int, queue, statements) -> None:
    import psycopg

    latencies = []
    with psycopg.connect(url) as conn:
        for i in range(awards):
            values = {"member": member_ids[i % len(member_ids)], "key": f"raw:{worker}:{i}"}
            started = time.perf_counter()
            with conn.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, [values.get(p, p) if isinstance(p, str) else p for p in params])
            conn.commit()
            latencies.append(time.perf_counter() - started)
    queue.put(latencies)


_runs = iter(range(1_000_000))


def run(target, url: str, member_ids: list[int], awards: int, workers: int, statements=None):
    """Run ``target`` in ``workers`` processes; idempotency keys are unique per run and worker."""
    run_id = next(_runs)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    per_worker = awards // workers
    slices = [member_ids[w::workers] for w in range(workers)]
    procs = [ctx.Process(target=target, args=(url, f"{run_id}.{w}", slices[w], per_worker, queue, statements))
             for w in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    latencies = []
    for _ in procs:
        try:
            latencies += queue.get(timeout=600)
        except Empty:
            raise SystemExit(f"a {target.__name__} process died; see its traceback above") from None
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return per_worker * workers / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--awards", type=int, default=4000, help="awards per side")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()

    url = recreate_database(DB_NAME)
    prepare(url, args.members)
    from engagement.models import Member

    member_ids = list(Member.objects.values_list("pk", flat=True))
    statements = capture_statements(url)
    # Warm up both paths (imports, connections, plans) before measuring.
    run(raw_worker, url, member_ids, args.workers * 50, args.workers, statements)
    run(orm_worker, url, member_ids, args.workers * 50, args.workers)
    raw_rate, raw_lat = run(raw_worker, url, member_ids, args.awards, args.workers, statements)
    orm_rate, orm_lat = run(orm_worker, url, member_ids, args.awards, args.workers)
    print(f"ledger award, {args.workers} processes, {args.awards} awards each side, {len(member_ids)} members, "
          f"{len(statements)} statements + commit per award")
    print(f"  raw psycopg floor : {raw_rate:8.0f} awards/s  ({summary(raw_lat)})")
    print(f"  award() service   : {orm_rate:8.0f} awards/s  ({summary(orm_lat)})")
    print(f"  ratio service/floor: {orm_rate / raw_rate:.2f}")
    from django.core.management import call_command

    call_command("verify_ledger", "--no-progress")


if __name__ == "__main__":
    main()
