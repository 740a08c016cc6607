#!/usr/bin/env python
"""Redemption throughput on PostgreSQL: ``rewards.services.redeem`` against a raw-psycopg floor.

Two scenarios, each measured for the service and for the floor in the same run, on the same fresh
database, with the same number of threads (each with its own connection), every thread redeeming for
its own slice of members:

- contended: every redemption takes a unit of ONE limited reward, so all threads queue on that
  reward's row lock (the conditional ``UPDATE ... WHERE stock > 0``) until their transaction commits;
- uncontended: each member redeems its own unlimited reward, so no two transactions share a row.

The floor sends, through psycopg with no ORM, no signals and no Python domain logic, the statements
the service sends for one redemption with an idempotency key (member lock, key lookups, reward read,
savepoints, conditional balance UPDATE, ledger INSERT, conditional stock UPDATE, redemption INSERT,
commit). It is what the service can approach, not beat. Threads share one interpreter, so the
service's Python time is serialised by the GIL while the floor mostly waits on the network: on a
2-core machine that is part of what the ratio shows.

    .venv/bin/python bench/redeem.py [--redemptions 2000] [--threads 4] [--members 200]
"""

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import recreate_database, setup_django, summary  # noqa: E402

DB_NAME = "plaudit_bench_redeem"
# Emails and other after-commit tasks go to an in-memory broker, as they would go to Redis in
# production, instead of being sent inline by the measured threads.
DJANGO_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": "memory://", "REDIS_URL": "",
              "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
COST = 1


def prepare(url: str, members: int, funds: int, *,
            server_side_binding: bool = False) -> tuple[list[int], int, list[int]]:
    """Migrate, create members with ``funds`` points (through the ledger), one limited reward and one
    unlimited reward per member. Returns (member ids, the limited reward's id, unlimited reward ids)."""
    # Django sends literal SQL by default (client-side binding), so PostgreSQL parses and plans every
    # statement; with server-side binding psycopg prepares repeated statements, as the floor does.
    setup_django(url + ("?server_side_binding=true" if server_side_binding else ""), **DJANGO_ENV)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from engagement import services as ledger
    from engagement.models import Member
    from rewards.models import Reward

    call_command("migrate", verbosity=0)
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"bench-{i}") for i in range(members)])
    Member.objects.bulk_create([Member(user=u) for u in users], ignore_conflicts=True)
    member_ids = list(Member.objects.order_by("pk").values_list("pk", flat=True))
    for member in Member.objects.filter(pk__in=member_ids):
        ledger.award(member=member, reason="bench_fund", points=funds, xp=0)
    limited = Reward.objects.create(name="Contended", type="merch_physical", cost_points=COST, stock=0,
                                    metadata={"sku": "BENCH"})
    unlimited = Reward.objects.bulk_create([
        Reward(name=f"Own {i}", type="merch_digital", cost_points=COST, stock=None,
               metadata={"license_key": f"K{i}"}) for i in range(members)])
    return member_ids, limited.pk, [r.pk for r in unlimited]


# --- the two sides ------------------------------------------------------------------------------------


def service_side(tag: str):
    from django.db import connections

    from engagement.models import Member
    from rewards import services

    def run(thread: int, work: list[tuple[int, int]], latencies: list[float]) -> None:
        members = Member.objects.in_bulk([member_id for member_id, _ in work])
        try:
            for i, (member_id, reward_id) in enumerate(work):
                started = time.perf_counter()
                services.redeem(member=members[member_id], reward_id=reward_id,
                                idempotency_key=f"{tag}:{thread}:{i}")
                latencies.append(time.perf_counter() - started)
        finally:
            connections.close_all()

    return run


RAW_REDEEM = [
    ("SELECT id, user_id, username, points, xp, level, avatar_upload_unlocked FROM engagement_member "
     "WHERE id = %(member)s FOR UPDATE", True),
    ("SELECT id, reward_id FROM rewards_redemption WHERE member_id = %(member)s AND idempotency_key = %(key)s "
     "LIMIT 1", True),
    ("SELECT id, name, type, cost_points, stock, active, available_from, available_until, metadata "
     "FROM rewards_reward WHERE id = %(reward)s", True),
    ("SAVEPOINT spend", False),
    ("SELECT id, points, xp, level FROM engagement_member WHERE id = %(member)s FOR UPDATE", True),
    ("SELECT id, request_hash FROM engagement_ledgerentry WHERE idempotency_key = %(ledger_key)s LIMIT 1", True),
    ("SAVEPOINT write", False),
    ("UPDATE engagement_member SET points = points - %(cost)s, xp = xp + 0 "
     "WHERE id = %(member)s AND points >= %(cost)s", False),
    ("INSERT INTO engagement_ledgerentry (member_id, points, xp, reason, meta, idempotency_key, request_hash, "
     "created) VALUES (%(member)s, -%(cost)s, 0, 'redeem', '{}', %(ledger_key)s, '', now()) RETURNING id", True),
    ("RELEASE SAVEPOINT write", False),
    ("RELEASE SAVEPOINT spend", False),
]
RAW_TAKE_STOCK = "UPDATE rewards_reward SET stock = stock - 1 WHERE id = %(reward)s AND stock > 0"
RAW_INSERT = (
    "INSERT INTO rewards_redemption (member_id, reward_id, reward_type, status, cost_points, took_stock, "
    "spend_entry_id, note, idempotency_key, created, updated) VALUES (%(member)s, %(reward)s, %(type)s, "
    "'pending', %(cost)s, %(took)s, %(entry)s, '', %(key)s, now(), now()) RETURNING id"
)


def _raw_redeem(cursor, args: dict) -> None:
    for sql, fetch in RAW_REDEEM:
        cursor.execute(sql, args)
        row = cursor.fetchone() if fetch else None
        if sql.startswith("SELECT id, name"):
            args.update(type=row[2], took=row[4] is not None)
        elif sql.startswith("INSERT"):
            args["entry"] = row[0]
    if args["took"]:
        cursor.execute(RAW_TAKE_STOCK, args)
        if cursor.rowcount != 1:
            raise RuntimeError("out of stock")
    cursor.execute(RAW_INSERT, args)
    cursor.fetchone()


def raw_side(url: str, tag: str):
    import psycopg

    def run(thread: int, work: list[tuple[int, int]], latencies: list[float]) -> None:
        with psycopg.connect(url) as conn:
            for i, (member_id, reward_id) in enumerate(work):
                key = f"{tag}:{thread}:{i}"
                args = {"member": member_id, "reward": reward_id, "cost": COST, "key": key,
                        "ledger_key": f"redeem:{member_id}:{key}"}
                started = time.perf_counter()
                with conn.cursor() as cursor:
                    _raw_redeem(cursor, args)
                conn.commit()
                latencies.append(time.perf_counter() - started)

    return run


# --- harness ------------------------------------------------------------------------------------------


def measure(run, plan: list[list[tuple[int, int]]]) -> tuple[float, list[float]]:
    """Run ``run(thread, work, latencies)`` in one thread per work list, released together."""
    per_thread = [[] for _ in plan]
    gate = threading.Barrier(len(plan) + 1)

    def worker(t: int) -> None:
        gate.wait()
        run(t, plan[t], per_thread[t])

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(len(plan))]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = [v for lat in per_thread for v in lat]
    if len(latencies) != sum(len(work) for work in plan):
        raise SystemExit("a thread failed; see the traceback above")
    return len(latencies) / elapsed, latencies


def plans(member_ids: list[int], limited: int, unlimited: list[int], redemptions: int,
          threads: int) -> dict[str, list[list[tuple[int, int]]]]:
    own = dict(zip(member_ids, unlimited, strict=True))
    slices = [member_ids[t::threads] for t in range(threads)]
    per_thread = redemptions // threads
    return {
        "contended": [[(s[i % len(s)], limited) for i in range(per_thread)] for s in slices],
        "uncontended": [[(s[i % len(s)], own[s[i % len(s)]]) for i in range(per_thread)] for s in slices],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redemptions", type=int, default=2000, help="redemptions per side and scenario")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--server-side-binding", action="store_true",
                        help="Django with OPTIONS server_side_binding (psycopg prepares repeated statements)")
    args = parser.parse_args()

    url = recreate_database(DB_NAME)
    funds = 4 * (args.redemptions + args.threads * 20) // args.members + 10
    member_ids, limited, unlimited = prepare(url, args.members, funds, server_side_binding=args.server_side_binding)
    from rewards.models import Redemption, Reward

    warmup = plans(member_ids, limited, unlimited, args.threads * 20, args.threads)
    work = plans(member_ids, limited, unlimited, args.redemptions, args.threads)
    binding = "server-side" if args.server_side_binding else "client-side (Django's default)"
    print(f"redeem, {args.threads} threads, {args.redemptions} redemptions per side and scenario, "
          f"{len(member_ids)} members, Django parameter binding: {binding}")
    contended_total = sum(map(len, work["contended"])) + sum(map(len, warmup["contended"]))
    initial_stock = 2 * contended_total  # both sides succeed every time: we measure successful redemptions
    Reward.objects.filter(pk=limited).update(stock=initial_stock)
    for scenario in ("contended", "uncontended"):
        measure(raw_side(url, f"warm-raw-{scenario}"), warmup[scenario])
        measure(service_side(f"warm-orm-{scenario}"), warmup[scenario])
        raw_rate, raw_lat = measure(raw_side(url, f"raw-{scenario}"), work[scenario])
        orm_rate, orm_lat = measure(service_side(f"orm-{scenario}"), work[scenario])
        print(f"  {scenario}:")
        print(f"    raw psycopg floor : {raw_rate:7.0f} redemptions/s  ({summary(raw_lat)})")
        print(f"    redeem() service  : {orm_rate:7.0f} redemptions/s  ({summary(orm_lat)})")
        print(f"    ratio service/floor: {orm_rate / raw_rate:.2f}")
    # The floor writes ledger rows behind the services' back (that is what a floor is), so verify_ledger
    # does not apply here; we check the stock instead: every unit taken is one redemption.
    sold = Redemption.objects.filter(reward_id=limited).count()
    left = Reward.objects.get(pk=limited).stock
    verdict = "consistent" if sold + left == initial_stock else "INCONSISTENT"
    print(f"  stock check: {sold} redemptions of the contended reward + {left} left = {initial_stock} ({verdict})")


if __name__ == "__main__":
    main()
