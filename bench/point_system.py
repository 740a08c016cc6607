#!/usr/bin/env python
"""Point System awards on PostgreSQL: ``POST /points/<id>/add?type=manual`` against a raw-psycopg floor.

The service side is the whole request in-process (Django's handler with every middleware, the bearer
key check, the protocol view, ``point_system.add_points`` and the JSON answer; django.test.Client,
``DEBUG=false``), with no HTTP server and no socket, like bench/claim.py. Each request names a new
description, so the blind-retry de-duplication looks for an earlier identical request and finds none
(the CoffeeBreak plugin sends no Idempotency-Key header: this is its path). The floor replays, through
raw psycopg, the exact statements one real request sends (captured per worker after a warm-up request,
see bench/_floor.py), with fresh de-duplication keys. N worker processes, each awarding to its own
participant, in rounds that alternate which side goes first; the ratio is the median of the rounds'.

    .venv/bin/python bench/point_system.py [--awards 2000] [--workers 4] [--rounds 3]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import recreate_database, setup_django  # noqa: E402
from _floor import capture, compare, lift_sequences  # noqa: E402

DB_NAME = "plaudit_writes_bench_point_system"
KEY = "bench-point-system-key-0123456789"
DJANGO_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": "memory://", "REDIS_URL": "",
              "POINT_SYSTEM_API_KEY": KEY}
FIRST_PARTICIPANT = 7_000_000


def prepare(workers: int) -> list[int]:
    """One participant per worker, created by a first award. Returns their protocol ids."""
    from django.core.management import call_command

    from config.models import OutboxTask
    from engagement.models import LedgerEntry

    call_command("migrate", verbosity=0)
    lift_sequences(LedgerEntry, OutboxTask)
    return [FIRST_PARTICIPANT + w for w in range(workers)]


def client():
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {KEY}", SERVER_NAME="127.0.0.1")


def add(api, user_id: int, description: str) -> None:
    response = api.post(f"/points/{user_id}/add?type=manual", json.dumps({"points": 1, "description": description}),
                        content_type="application/json")
    if response.status_code != 201:
        raise SystemExit(f"add answered {response.status_code}: {response.content[:300]!r}")


def service_worker(url: str, user_id: int, tag: str, calls: int, queue, go) -> None:
    setup_django(url, **DJANGO_ENV)
    api = client()
    add(api, user_id, f"{tag}.warm")  # imports, connection, caches
    queue.put("ready")
    go.wait()
    latencies = []
    for i in range(calls):
        started = time.perf_counter()
        add(api, user_id, f"{tag}.{i}")
        latencies.append(time.perf_counter() - started)
    queue.put(latencies)


def statements_for(user_id: int) -> list:
    api = client()
    add(api, user_id, "warm-up")  # creates the participant
    add(api, user_id, "warm-up again")
    return capture(lambda: add(api, user_id, "captured"), unique=lambda value: value.startswith("ps:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--awards", type=int, default=2000, help="awards per worker, side and round")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    url = recreate_database(DB_NAME)
    setup_django(url, **DJANGO_ENV)
    participants = prepare(args.workers)
    floors = [(url, statements_for(user_id)) for user_id in participants]
    print(f"POST /points/<id>/add?type=manual, {args.workers} processes, {args.awards} awards per worker, "
          f"side and round, {args.rounds} rounds, {len(floors[0][1])} statements + commit per award")
    compare(label="point_system add", service=service_worker, service_args=[(url, p) for p in participants],
            floor_args=floors, calls=args.awards, rounds=args.rounds, warm=50)


if __name__ == "__main__":
    main()
