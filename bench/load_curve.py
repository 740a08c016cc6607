"""Load curve: door scans and ledger awards over HTTP at 1, 8, 32 and 64 concurrent clients, against
gunicorn with 2 and 4 workers, sync and threaded (gthread), printing throughput and p50/p99 at each point.

    apt-get install wrk   # once: the default load generator (Debian/Ubuntu package; not a project dependency)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plaudit_bench_load .venv/bin/python bench/load_curve.py

The database named in DATABASE_URL is DROPPED and recreated. Per point: door entries of fresh tickets
(``checkinrpc/redeem``, one list, token auth) and awards (``POST /api/v1/engagement/events``, the endpoint
a club's website records members' actions with: an earning rule, an idempotency key per request, the
usual caps). Production settings (DEBUG=false, persistent connections, no Redis); tasks after commit go to
an in-memory broker as they would go to Redis, not run inline.

Generators (``--generator``):
- ``wrk`` (default): one wrk process (C, event loop; ``--wrk-threads`` threads, default 1) keeps
  ``clients`` connections busy for ``--duration`` seconds with ``bench/load_curve.lua``, which makes every
  request unique (the next fresh ticket secret from a file written per point; a fresh idempotency key)
  and prints p50/p90/p99 from wrk's own histogram. It costs a few percent of one core where the Python
  generator took most of one, so the server keeps the 2 cores it shares with PostgreSQL. wrk's latency is
  from the request's first byte to the answer's last; a sync worker closes the connection after each
  answer and wrk's reconnect is not in the figure (it is in the throughput).
- ``python``: ``--requests`` requests per point from keep-alive httpx clients, as threads spread over
  ``--client-processes`` processes (64 threads in one Python process measure its GIL as much as the
  server); needs no wrk.

Each server shape is warmed first; every shape runs every client count, so a load change on this shared
machine shows as an odd row, not a trend. ``client CPU / req`` is the generator's own CPU per answer (this
process and its finished children: wrk, or the client processes), i.e. what it took from the server's cores;
``gunicorn CPU / req`` and ``PostgreSQL CPU / req`` are the server's (its process group) and the benchmark
database's backends' (Linux /proc). ``--paths door`` runs the door alone.

``--door-history`` (default 5,000) people are already inside on another list of the event, written and
ANALYZEd before the first server starts, as in any database that has served a door before. Without them
(``--door-history 0``) the first shape's workers prepare the door's lock statement while the state table
holds a handful of rows, and PostgreSQL's generic plan for it is then a sequential scan of that table,
kept for the connection's life (``DB_CONN_MAX_AGE`` here is 600 s, and nothing re-ANALYZEs on a machine
with autovacuum off): every scan then reads every state row, the first shape slows down point after point
and later shapes (new connections, bigger tables) do not. That, not the worker class, was the "collapse"
of 2 sync workers from 8 to 64 clients in BENCHMARKS.md. The award path has the same trap: with
``--award-history 0`` its tables start empty and the first shape's PostgreSQL CPU per award grows with the
ledger (1.07 → 1.68 ms from 1 to 64 clients, awards 476/s → 418/s), while with the default 10,000 awards
paid before the server starts it stays flat (0.94–0.98 ms).
Not run by CI; no figure here is asserted anywhere.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkin import (  # noqa: E402
    SERVER_ENV,
    analyze,
    free_port,
    recreate_database,
    room_inside,
    run_load,
    setup_django,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/plaudit_bench_load"
# As bench/ledger.py: side effects go to an in-memory broker instead of running inline. The per-caller
# limit of the events endpoint (1,200/min for the website's account) would measure the limiter.
LOAD_ENV = {"CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_URL": "memory://", "ENGAGEMENT_RATES": "events=off"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", choices=["wrk", "python"], default="wrk")
    parser.add_argument("--duration", type=int, default=10, help="wrk: seconds per point and path")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--tickets-per-point", type=int, default=15000,
                        help="wrk: fresh tickets per door point (a point that runs out says so)")
    parser.add_argument("--requests", type=int, default=800, help="python: requests per point and path")
    parser.add_argument("--clients", default="1,8,32,64")
    parser.add_argument("--shapes", default="sync:2,sync:4,gthread:2x4,gthread:4x4",
                        help="worker class:workers[xthreads], comma-separated")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--conn-max-age", default="600", help="DB_CONN_MAX_AGE for the server")
    parser.add_argument("--client-processes", type=int, default=4, help="python: processes for the client threads")
    parser.add_argument("--worker-args", default="", help="extra gunicorn arguments for every shape")
    parser.add_argument("--paths", default="door,award", help="which paths to run: door, award or both")
    parser.add_argument("--door-history", type=int, default=5000,
                        help="people already scanned on another list of the event before the first server starts "
                             "(0: the door's tables start empty; see the docstring)")
    parser.add_argument("--award-history", type=int, default=10000,
                        help="awards paid through engagement.services.award before the first server starts "
                             "(0: the ledger, totals and histogram tables start empty; see the docstring)")
    return parser.parse_args()


def seed(tickets: int, members: int, door_history: int = 0, award_history: int = 0):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    from bench.checkin import seed as seed_door
    from engagement import services
    from engagement.models import EarningRule, Member

    organizer, event, clist, door_token, secrets = seed_door(tickets)
    if door_history:
        room_inside(event, door_history, "earlier")  # and ANALYZE
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"member-{i}") for i in range(members)], batch_size=5000)
    Member.objects.bulk_create([Member(user=u) for u in users], batch_size=5000, ignore_conflicts=True)
    EarningRule.objects.get_or_create(reason="bench_award", defaults={"points": 1, "xp": 1})
    website = User.objects.create_user("website", password="x")
    website.user_permissions.add(Permission.objects.get(codename="record_action"))
    # A club that has awarded before: ledger, totals, histogram and streak rows, paid as the endpoint pays.
    seeded = list(Member.objects.order_by("pk")[:members])
    for i in range(award_history):
        services.award(member=seeded[i % len(seeded)], reason="bench_award", idempotency_key=f"history:{i}")
    analyze()  # every table the door and the award read, with its rows, before any plan is made
    return {"redeem": f"/api/v1/organizers/{organizer.slug}/checkinrpc/redeem/", "list": clist.pk,
            "door_token": door_token, "secrets": secrets, "members": [u.pk for u in users],
            "website_token": Token.objects.create(user=website).key}


def start(url: str, port: int, shape: str, conn_max_age: str, extra: str = "") -> subprocess.Popen:
    import httpx

    kind, _, size = shape.partition(":")
    workers, _, threads = size.partition("x")
    env = {**os.environ, **SERVER_ENV, **LOAD_ENV, "DATABASE_URL": url, "DB_CONN_MAX_AGE": conn_max_age}
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-k", kind, "-w", workers, "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "--keep-alive", "30"] + (["--threads", threads] if threads else []) + extra.split()
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


def wrk_load(base: str, kind: str, path: str, token: str, items: list, clients: int, args, extra: str = "") -> dict:
    """One wrk run of ``args.duration`` seconds; ``items`` (secrets or user ids) go through a file."""
    with tempfile.NamedTemporaryFile("w", prefix=f"plaudit-wrk-{kind}-", suffix=".txt", delete=False) as f:
        f.write("\n".join(str(x) for x in items) + "\n")
    threads = max(1, min(args.wrk_threads, clients))
    cmd = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{args.duration}s", "--timeout", "10s",
           "-s", str(ROOT / "bench/load_curve.lua"), base, "--", kind, path, token, f.name] + ([extra] if extra else [])
    try:
        out = subprocess.run(cmd, env={**os.environ, "WRK_THREADS": str(threads)}, capture_output=True, text=True,
                             timeout=args.duration + 60, check=True).stdout
    finally:
        os.unlink(f.name)
    line = next(x for x in out.splitlines() if x.startswith("WRK_RESULT "))
    r = json.loads(line.removeprefix("WRK_RESULT "))
    statuses = {int(k): v for k, v in r["statuses"].items()}
    for name in ("connect_errors", "read_errors", "write_errors", "timeouts"):
        if r[name]:
            statuses[name] = r[name]
    if r["exhausted"]:
        statuses["OUT OF TICKETS"] = r["exhausted"]
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50": r["p50_us"] / 1000, "p99": r["p99_us"] / 1000,
            "statuses": statuses}


def _proc_cpu(pid: str) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _is_backend_of(cmdline: bytes, database: str) -> bool:
    # A backend's title: "postgres: [cluster: ]user database host(port) state".
    return cmdline.startswith(b"postgres: ") and f" {database} ".encode() in cmdline


def server_cpu(pgid: int, database: str) -> tuple[float, float]:
    """CPU seconds so far of the gunicorn processes (the server's process group) and of the PostgreSQL
    backends connected to ``database`` (Linux /proc; zeros elsewhere): what the server side cost per
    answer. PostgreSQL's own background processes, shared with whatever else runs, are not counted."""
    gunicorn = postgres = 0.0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(entry.name)) == pgid:
                gunicorn += _proc_cpu(entry.name)
            elif _is_backend_of((entry / "cmdline").read_bytes(), database):
                postgres += _proc_cpu(entry.name)
        except OSError:
            continue
    return gunicorn, postgres


def client_cpu() -> float:
    """CPU seconds of this process and its finished children: the load generator's cost (the server runs
    in its own process group, still running, so it is not in the children's figure)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def measured(pgid: int, run, *args) -> dict:
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    c0, (g0, p0) = client_cpu(), server_cpu(pgid, database)
    r = run(*args)
    c1, (g1, p1) = client_cpu(), server_cpu(pgid, database)
    n = max(1, sum(v for k, v in r["statuses"].items() if isinstance(k, int)))
    return {**r, "client_cpu_ms": (c1 - c0) * 1000 / n, "gunicorn_cpu_ms": (g1 - g0) * 1000 / n,
            "postgres_cpu_ms": (p1 - p0) * 1000 / n}


def point(label: str, r: dict) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items(), key=lambda kv: str(kv[0])))
    return (f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['client_cpu_ms']:.2f} ms | "
            f"{r['gunicorn_cpu_ms']:.2f} ms | {r['postgres_cpu_ms']:.2f} ms | {statuses} |")


LABELS = {"door": "door entry", "award": "award"}


def measure_path(path: str, pgid: int, base: str, data: dict, clients: int, args, *, scans, secrets, awards) -> dict:
    """One point of one path: wrk, or the Python clients."""
    if args.generator == "wrk" and path == "door":
        return measured(pgid, wrk_load, base, "door", data["redeem"], data["door_token"],
                        [next(secrets) for _ in range(args.tickets_per_point)], clients, args, str(data["list"]))
    if args.generator == "wrk":
        return measured(pgid, wrk_load, base, "award", "/api/v1/engagement/events", data["website_token"],
                        data["members"], clients, args)
    token, jobs = ((data["door_token"], scans(args.requests)) if path == "door"
                   else (data["website_token"], awards(args.requests)))
    return measured(pgid, load, base, token, jobs, clients, args.client_processes)


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not url.startswith("postgres"):
        raise SystemExit("bench/load_curve.py needs PostgreSQL in DATABASE_URL")
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    levels = [int(c) for c in args.clients.split(",")]
    paths = {p.strip() for p in args.paths.split(",") if p.strip()}
    recreate_database(url)
    os.environ.update(LOAD_ENV)
    setup_django(url)
    wrk = args.generator == "wrk"
    if wrk and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `apt-get install wrk`, or --generator python")
    per_point = args.tickets_per_point if wrk else args.requests
    data = seed(len(shapes) * (len(levels) * per_point + 200), args.members, args.door_history, args.award_history)
    secrets, members = iter(data["secrets"]), data["members"]
    how = (f"wrk, {args.duration} s per point, {args.wrk_threads} wrk thread(s)" if wrk else
           f"python, {args.requests} requests per point, clients over up to {args.client_processes} processes")
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; {how}; "
          f"DB_CONN_MAX_AGE={args.conn_max_age}; door history: {args.door_history:,}; "
          f"award history: {args.award_history:,}; "
          f"worker args: {args.worker_args or '-'}", flush=True)
    print("| server, path, clients | req/s | p50 | p99 | client CPU / req | gunicorn CPU / req | PostgreSQL CPU / req "
          "| statuses |\n|---|---:|---:|---:|---:|---:|---:|---|")
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
        server = start(url, port, shape, args.conn_max_age, args.worker_args)
        base = f"http://127.0.0.1:{port}"
        try:
            # Warm every worker and thread (imports, connections, prepared statements).
            run_load(base, data["door_token"], scans(100), 16)
            run_load(base, data["website_token"], awards(100, shape), 16)
            for clients in levels:
                for path in ("door", "award"):
                    if path in paths:
                        r = measure_path(path, server.pid, base, data, clients, args, scans=scans, secrets=secrets,
                                         awards=lambda n, shape=shape: awards(n, shape))
                        print(point(f"{shape}, {LABELS[path]}, {clients}", r), flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
