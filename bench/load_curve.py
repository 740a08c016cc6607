"""Load curve: door scans and ledger awards over HTTP at 1, 8, 32 and 64 concurrent clients, against
gunicorn with 2 and 4 workers, sync and threaded (gthread), printing throughput and p50/p99 at each point.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plaudit_bench_load .venv/bin/python bench/load_curve.py

The database named in DATABASE_URL is DROPPED and recreated. Per point: ``--requests`` door entries of
fresh tickets (``checkinrpc/redeem``, one list, token auth) and as many awards (``POST
/api/v1/engagement/events``, the endpoint a club's website records members' actions with: an earning
rule, an idempotency key per request, the usual caps). Production settings (DEBUG=false, persistent
connections, no Redis); tasks after commit go to an in-memory broker as they would go to Redis, not run
inline. The clients are keep-alive httpx clients (a sync worker closes the connection after each answer,
as gunicorn's sync workers do), as threads spread over ``--client-processes`` processes: 64 threads in
one Python process measure its GIL as much as the server. Each server shape is warmed first; every
shape runs every client count, so a load change on this shared machine shows as an odd row, not a trend.
Not run by CI; no figure here is asserted anywhere.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkin import SERVER_ENV, free_port, recreate_database, run_load, setup_django  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/plaudit_bench_load"
# As bench/ledger.py: side effects go to an in-memory broker instead of running inline. The per-caller
# limit of the events endpoint (1,200/min for the website's account) would measure the limiter.
LOAD_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": "memory://", "ENGAGEMENT_RATES": "events=off"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=800, help="per point and path")
    parser.add_argument("--clients", default="1,8,32,64")
    parser.add_argument("--shapes", default="sync:2,sync:4,gthread:2x4,gthread:4x4",
                        help="worker class:workers[xthreads], comma-separated")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--conn-max-age", default="600", help="DB_CONN_MAX_AGE for the server")
    parser.add_argument("--client-processes", type=int, default=4)
    return parser.parse_args()


def seed(tickets: int, members: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    from bench.checkin import seed as seed_door
    from engagement.models import EarningRule, Member

    organizer, _event, clist, door_token, secrets = seed_door(tickets)
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"member-{i}") for i in range(members)], batch_size=5000)
    Member.objects.bulk_create([Member(user=u) for u in users], batch_size=5000, ignore_conflicts=True)
    EarningRule.objects.get_or_create(reason="bench_award", defaults={"points": 1, "xp": 1})
    website = User.objects.create_user("website", password="x")
    website.user_permissions.add(Permission.objects.get(codename="record_action"))
    return {"redeem": f"/api/v1/organizers/{organizer.slug}/checkinrpc/redeem/", "list": clist.pk,
            "door_token": door_token, "secrets": secrets, "members": [u.pk for u in users],
            "website_token": Token.objects.create(user=website).key}


def start(url: str, port: int, shape: str, conn_max_age: str) -> subprocess.Popen:
    import httpx

    kind, _, size = shape.partition(":")
    workers, _, threads = size.partition("x")
    env = {**os.environ, **SERVER_ENV, **LOAD_ENV, "DATABASE_URL": url, "DB_CONN_MAX_AGE": conn_max_age}
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-k", kind, "-w", workers, "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "--keep-alive", "30"] + (["--threads", threads] if threads else [])
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / "plaudit-bench-load-gunicorn.log", "a")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log)
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/bench/ping").status_code == 401:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"gunicorn {shape} did not start")


def _client_process(base, token, jobs, threads, go, results):
    go.wait()
    r = run_load(base, token, jobs, threads)
    results.put((r["latencies"], r["statuses"]))


def load(base: str, token: str, jobs: list, clients: int, processes: int) -> dict:
    """``run_load`` with the ``clients`` threads spread over up to ``processes`` processes."""
    import multiprocessing as mp
    import statistics

    n = max(1, min(processes, clients))
    if n == 1:
        return run_load(base, token, jobs, clients)
    ctx = mp.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    chunks = [jobs[i::n] for i in range(n)]
    threads = [clients // n + (1 if i < clients % n else 0) for i in range(n)]
    procs = [ctx.Process(target=_client_process, args=(base, token, chunk, t, go, results))
             for chunk, t in zip(chunks, threads, strict=True)]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # let every process reach the start line
    t0 = time.perf_counter()
    go.set()
    latencies, statuses = [], {}
    for _ in procs:
        found, counts = results.get()
        latencies += found
        for k, v in counts.items():
            statuses[k] = statuses.get(k, 0) + v
    wall = time.perf_counter() - t0
    for proc in procs:
        proc.join()
    latencies.sort()
    return {"p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "rps": len(latencies) / wall, "statuses": statuses, "latencies": latencies}


def point(label: str, r: dict) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
    return f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {statuses} |"


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not url.startswith("postgres"):
        raise SystemExit("bench/load_curve.py needs PostgreSQL in DATABASE_URL")
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    levels = [int(c) for c in args.clients.split(",")]
    recreate_database(url)
    os.environ.update(LOAD_ENV)
    setup_django(url)
    data = seed(len(shapes) * (len(levels) * args.requests + 200), args.members)
    secrets, members = iter(data["secrets"]), data["members"]
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; {args.requests} requests "
          f"per point; DB_CONN_MAX_AGE={args.conn_max_age}; clients over up to {args.client_processes} "
          "processes", flush=True)
    print("| server, path, clients | req/s | p50 | p99 | statuses |\n|---|---:|---:|---:|---|")
    award_no = 0

    def scans(n):
        return [("POST", data["redeem"], {"secret": next(secrets), "lists": [data["list"]]}) for _ in range(n)]

    def awards(n, shape):
        nonlocal award_no
        jobs = []
        for _ in range(n):
            award_no += 1
            jobs.append(("POST", "/api/v1/engagement/events",
                         {"user_id": members[award_no % len(members)], "reason": "bench_award",
                          "idempotency_key": f"{shape}:{award_no}"}))
        return jobs

    for shape in shapes:
        port = free_port()
        server = start(url, port, shape, args.conn_max_age)
        base = f"http://127.0.0.1:{port}"
        try:
            # Warm every worker and thread (imports, connections, prepared statements).
            run_load(base, data["door_token"], scans(100), 16)
            run_load(base, data["website_token"], awards(100, shape), 16)
            for clients in levels:
                door = load(base, data["door_token"], scans(args.requests), clients, args.client_processes)
                print(point(f"{shape}, door entry, {clients}", door), flush=True)
                award = load(base, data["website_token"], awards(args.requests, shape), clients,
                             args.client_processes)
                print(point(f"{shape}, award, {clients}", award), flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
