#!/usr/bin/env python
"""Redemption throughput on PostgreSQL: ``rewards.services.redeem`` against a raw-psycopg floor.

Both sides run in the same run, on the same fresh database, in N worker processes (like gunicorn
workers), each redeeming for its own member, in rounds that alternate which side goes first. The floor
replays the exact statements one real redemption sends (captured per worker with an execute_wrapper,
after a warm-up redemption: see bench/_floor.py), with fresh idempotency keys and the ids its INSERTs
return, straight through psycopg: no ORM, no Django, no Python domain logic. Two scenarios:

- contended: every redemption takes a unit of ONE limited reward (pending merch), so all processes
  queue on that reward's row lock (the conditional ``UPDATE ... WHERE stock > 0``) until they commit;
- uncontended: each member redeems its own unlimited reward, so no two transactions share a row.

Emails go to the outbox and, after commit, to an in-memory broker (as they would go to Redis).

    .venv/bin/python bench/redeem.py [--redemptions 2000] [--workers 4] [--rounds 3]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import recreate_database, setup_django  # noqa: E402
from _floor import capture, compare, lift_sequences  # noqa: E402

DB_NAME = "plaudit_writes_bench_redeem"
DJANGO_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": "memory://", "REDIS_URL": "",
              "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
FUNDS = 10**9
CAPTURE_KEY = "CAPTURE-KEY"


def prepare(workers: int) -> tuple[list[int], int, list[int]]:
    """Members (one per worker, funded through the ledger), one limited reward, one unlimited reward
    per member. Returns (member ids, the limited reward's id, the unlimited rewards' ids)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from config.models import OutboxTask
    from engagement import services as ledger
    from engagement.models import LedgerEntry
    from rewards.models import Redemption, Reward

    call_command("migrate", verbosity=0)
    lift_sequences(LedgerEntry, Redemption, OutboxTask)
    User = get_user_model()
    members = [ledger.member_for_user(User.objects.create(username=f"bench-{w}")) for w in range(workers)]
    for member in members:
        ledger.award(member=member, reason="bench_fund", points=FUNDS, xp=0)
    limited = Reward.objects.create(name="Contended", type="merch_physical", cost_points=1, stock=10**8,
                                    metadata={"sku": "BENCH"})
    unlimited = [Reward.objects.create(name=f"Own {w}", type="merch_digital", cost_points=1, stock=None,
                                       metadata={"license_key": f"K{w}"}) for w in range(workers)]
    return [m.pk for m in members], limited.pk, [r.pk for r in unlimited]


def service_worker(url: str, member_id: int, reward_id: int, tag: str, calls: int, queue, go) -> None:
    setup_django(url, **DJANGO_ENV)
    from django.db import connection

    from engagement.models import Member
    from rewards import services

    member = Member.objects.get(pk=member_id)
    connection.ensure_connection()
    queue.put("ready")
    go.wait()
    latencies = []
    for i in range(calls):
        started = time.perf_counter()
        services.redeem(member=member, reward_id=reward_id, idempotency_key=f"{tag}.{i}")
        latencies.append(time.perf_counter() - started)
    queue.put(latencies)


def statements_for(member_id: int, reward_id: int) -> list:
    from engagement.models import Member
    from rewards import services

    member = Member.objects.get(pk=member_id)
    services.redeem(member=member, reward_id=reward_id, idempotency_key=f"warm-up-{reward_id}")
    key = f"{CAPTURE_KEY}-{reward_id}"
    return capture(lambda: services.redeem(member=member, reward_id=reward_id, idempotency_key=key),
                   unique=lambda value: CAPTURE_KEY in value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redemptions", type=int, default=2000, help="redemptions per worker, side and round")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    url = recreate_database(DB_NAME)
    setup_django(url, **DJANGO_ENV)
    member_ids, limited, unlimited = prepare(args.workers)
    from rewards.models import Redemption, Reward

    print(f"redeem, {args.workers} processes, {args.redemptions} redemptions per worker, side and round, "
          f"{args.rounds} rounds")
    for scenario, rewards in (("contended", [limited] * args.workers), ("uncontended", unlimited)):
        plan = list(zip(member_ids, rewards, strict=True))
        floors = [(url, statements_for(m, r)) for m, r in plan]
        print(f"  {scenario}: {len(floors[0][1])} statements + commit per redemption")
        compare(label=scenario, service=service_worker, service_args=[(url, m, r) for m, r in plan],
                floor_args=floors, calls=args.redemptions, rounds=args.rounds, warm=50)
    # The floor writes ledger rows behind the services' back (that is what a floor is), so verify_ledger
    # does not apply; we check the stock instead: every unit taken is one redemption row.
    sold = Redemption.objects.filter(reward_id=limited).count()
    left = Reward.objects.get(pk=limited).stock
    verdict = "consistent" if sold + left == 10**8 else "INCONSISTENT"
    print(f"  stock check: {sold} redemptions of the contended reward + {left} left = 10^8 ({verdict})")


if __name__ == "__main__":
    main()
