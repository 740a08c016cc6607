"""Per-request cost of ``POST /api/v1/engagement/events`` in process: the full Django stack (middleware,
DRF authentication, permission, throttle, serializer, the award, the answer) through Django's test
``Client``, with the production settings load_curve.py gives gunicorn, against PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plaudit_bench_events .venv/bin/python bench/events_profile.py
    ... bench/events_profile.py --profile 300     # cProfile of 300 calls, top functions by own time

The database named in DATABASE_URL is DROPPED and recreated. Prints the statements of one call (what
``services.award`` writes plus what the request around it reads), the mean time per call over
``--calls`` calls with the CPU time this process spent on them (the figure that matters on a loaded
machine: the wall time includes waiting for PostgreSQL and for the cores), and with ``--profile`` a
cProfile listing. Each call awards the next of ``--members`` members with a fresh idempotency key, as
the load curve does. Not run by CI; nothing here is asserted.
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkin import recreate_database, setup_django  # noqa: E402
from bench.load_curve import LOAD_ENV  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/plaudit_bench_events"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--profile", type=int, default=0, help="calls to profile (0: none)")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="also write the cProfile stats to this file (for pstats)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    recreate_database(url)
    os.environ.update(LOAD_ENV)
    setup_django(url)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from engagement.models import EarningRule, Member

    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"member-{i}") for i in range(args.members)])
    Member.objects.bulk_create([Member(user=u) for u in users], ignore_conflicts=True)
    EarningRule.objects.get_or_create(reason="bench_award", defaults={"points": 1, "xp": 1})
    website = User.objects.create_user("website", password="x")
    website.user_permissions.add(Permission.objects.get(codename="record_action"))
    token = Token.objects.create(user=website).key
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    ids = [u.pk for u in users]
    n = 0

    def call():
        nonlocal n
        n += 1
        response = client.post("/api/v1/engagement/events", {"user_id": ids[n % len(ids)], "reason": "bench_award",
                                                               "idempotency_key": f"p:{n}"},
                               content_type="application/json")
        assert response.status_code == 201, (response.status_code, response.content)

    for _ in range(50):  # warm: imports, connection, prepared statements
        call()
    # Recorded through an execute wrapper: the hand-written statements (config.sql) bind on the server,
    # where the captured query text of CaptureQueriesContext is None.
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(record):
        call()
    print(f"statements of one call: {len(queries)} (BEGIN and COMMIT included)")
    for sql in seen:
        print("   ", " ".join(str(sql).split())[:200])
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.calls):
        call()
    per_call = (time.perf_counter() - t0) / args.calls * 1000
    cpu = (time.process_time() - c0) / args.calls * 1000
    print(f"{args.calls} calls: {per_call:.2f} ms per call ({1000 / per_call:.0f}/s in one process), of which "
          f"{cpu:.2f} ms CPU in this process (Django, DRF, psycopg; PostgreSQL's own time is not in it)")
    if args.profile:
        # CPU time, not wall time: waiting for PostgreSQL is not what a worker can save.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.profile):
            call()
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        if args.dump:
            profiler.dump_stats(args.dump)


if __name__ == "__main__":
    main()
