#!/usr/bin/env python
"""QR claims on PostgreSQL: ``POST /api/v1/points/claim`` against a raw-psycopg floor.

The service side is the whole request in-process: Django's handler with every middleware, DRF's token
authentication, the view, ``points_bridge.services.claim`` and the JSON answer (django.test.Client,
``DEBUG=false``), but no HTTP server and no socket: those are the same for any endpoint and would hide
the path in the noise of this shared machine. The floor replays, through raw psycopg, the exact
statements one real request sends (token lookup included; captured per worker after a warm-up request,
see bench/_floor.py), with fresh idempotency keys. Both in N worker processes (like gunicorn workers),
each claiming its own template's code for its own member (an unlimited template, no earning-rule cap),
in rounds that alternate which side goes first; the ratio is the median of the rounds' ratios.

    .venv/bin/python bench/claim.py [--claims 2000] [--workers 4] [--rounds 3]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import recreate_database, setup_django  # noqa: E402
from _floor import capture, compare, lift_sequences  # noqa: E402

DB_NAME = "plaudit_writes_bench_claim"
# Tasks (achievement evaluation) go to an in-memory broker after commit, as they would go to Redis;
# the per-member claim rate limit (30/min by default) is lifted: every worker claims thousands of times.
DJANGO_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": "memory://", "REDIS_URL": "",
              "POINT_SYSTEM_CLAIM_RATE": "100000000/min"}
URL = "/api/v1/points/claim"
CAPTURE_KEY = "CAPTURE-KEY"


def prepare(workers: int) -> list[tuple[str, str]]:
    """One member with an API token and one unlimited template per worker: [(token, code)]."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from config.models import OutboxTask
    from engagement.models import LedgerEntry
    from points_bridge import services as bridge
    from points_bridge.models import Claim, ClaimTemplate

    call_command("migrate", verbosity=0)
    lift_sequences(LedgerEntry, Claim, OutboxTask)
    found = []
    for w in range(workers):
        user = get_user_model().objects.create(username=f"bench-{w}")
        template = ClaimTemplate.objects.create(name=f"Booth {w}", points=1, claim_limit=None)
        found.append((Token.objects.create(user=user).key, bridge.issue_claim_token(template=template)))
    return found


def client(token: str):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Token {token}", SERVER_NAME="127.0.0.1")


def claim(api, code: str, key: str) -> None:
    response = api.post(URL, {"code": code}, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    if response.status_code != 201:
        raise SystemExit(f"claim answered {response.status_code}: {response.content[:300]!r}")


def service_worker(url: str, token: str, code: str, tag: str, calls: int, queue, go) -> None:
    setup_django(url, **DJANGO_ENV)
    api = client(token)
    claim(api, code, f"{tag}.warm")  # imports, connection, caches
    queue.put("ready")
    go.wait()
    latencies = []
    for i in range(calls):
        started = time.perf_counter()
        claim(api, code, f"{tag}.{i}")
        latencies.append(time.perf_counter() - started)
    queue.put(latencies)


def statements_for(token: str, code: str) -> list:
    api = client(token)
    claim(api, code, f"warm-up-{token}")
    return capture(lambda: claim(api, code, CAPTURE_KEY), unique=lambda value: CAPTURE_KEY in value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=2000, help="claims per worker, side and round")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    url = recreate_database(DB_NAME)
    setup_django(url, **DJANGO_ENV)
    plan = prepare(args.workers)
    floors = [(url, statements_for(token, code)) for token, code in plan]
    print(f"POST {URL}, {args.workers} processes, {args.claims} claims per worker, side and round, "
          f"{args.rounds} rounds, {len(floors[0][1])} statements + commit per claim")
    compare(label="claim", service=service_worker, service_args=[(url, t, c) for t, c in plan],
            floor_args=floors, calls=args.claims, rounds=args.rounds, warm=50)

    from points_bridge.models import Claim

    print(f"  claims recorded by the service: {Claim.objects.count()}")


if __name__ == "__main__":
    main()
