"""Door-scan benchmark: pretix-shaped redeem under gunicorn next to a bare DRF floor, the status endpoint
as scans pile up, and set-based bulk checkout next to a per-row loop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plaudit_bench_checkin .venv/bin/python bench/checkin.py

The database named in DATABASE_URL is DROPPED and recreated. Defaults: 3 rounds of entry, repeat entry
and exit, each round over its own 5,000 distinct tickets, each phase bracketed by two runs of the floor;
8 client threads; 100,000 people for bulk checkout, 2,000 for the per-row loop (extrapolated linearly,
and printed as such). ``--history`` (default 5,000) people are already inside on another list of the event
when the server starts, so the door's statements are planned on tables that are not empty (``--history 0``:
empty tables, the figures before 2026-12-01 evening).
Not run by CI; no figure here is asserted anywhere.
"""

import argparse
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/plaudit_bench_checkin"
SERVER_ENV = {
    "DEBUG": "false", "SECRET_KEY": "bench-" + "k" * 60, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
    "PLAUDIT_BENCH_ENDPOINTS": "true", "LOG_LEVEL": "ERROR", "DB_CONN_MAX_AGE": "600", "REDIS_URL": "",
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--loop", type=int, default=2000, help="people checked out one by one (extrapolated)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of entry/repeat/exit, each on its own tickets")
    parser.add_argument("--history", type=int, default=5000,
                        help="people already inside on another list of the event before the server starts (0: none)")
    return parser.parse_args()


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ.update(SERVER_ENV, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- Data ----------------------------------------------------------------------------------------------


def seed(n_tickets: int):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from checkin.models import CheckinList, Event, Organizer, OrganizerMembership, Ticket

    organizer = Organizer.objects.create(name="Bench", slug="bench")
    event = Event.objects.create(organizer=organizer, name="Bench event", slug="bench-event")
    # attendance_points=0: no points are awarded, like the pretix run this is compared with.
    clist = CheckinList.objects.create(event=event, name="Door")
    user = get_user_model().objects.create_user("scanner", password="x")
    OrganizerMembership.objects.create(organizer=organizer, user=user, can_checkin=True)
    token = Token.objects.create(user=user).key
    Ticket.objects.bulk_create([Ticket(event=event, order_code=f"B{i:06d}", attendee_name=f"Guest {i}")
                                for i in range(n_tickets)], batch_size=5000)
    secrets = list(Ticket.objects.filter(event=event).values_list("secret", flat=True))
    analyze()
    return organizer, event, clist, token, secrets


def analyze() -> None:
    # Fresh bulk-loaded tables have no planner statistics yet; autovacuum would gather them in production.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def room_inside(event, n: int, name: str):
    """``n`` people inside a new list, written set-based (as if each had scanned in)."""
    from django.utils import timezone

    from checkin.models import CheckinList, Scan, Ticket, TicketListState

    clist = CheckinList.objects.create(event=event, name=name)
    at = timezone.now() - timezone.timedelta(hours=1)
    tickets = Ticket.objects.bulk_create([Ticket(event=event, order_code=f"{name}{i}", attendee_name=f"P {i}")
                                          for i in range(n)], batch_size=5000)
    Scan.objects.bulk_create([Scan(ticket=t, checkin_list=clist, datetime=at) for t in tickets], batch_size=5000)
    TicketListState.objects.bulk_create([TicketListState(ticket=t, checkin_list=clist, inside=True, last_datetime=at,
                                                         entry_count=1) for t in tickets], batch_size=5000)
    analyze()
    return clist, [t.pk for t in tickets]


# --- Server and load -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url}
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "--keep-alive", "30"]
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / "plaudit-bench-checkin-gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=log)
    import httpx

    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/bench/ping").status_code == 401:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def run_load(base: str, token: str, jobs: list, clients: int) -> dict:
    """``jobs`` are (method, path, json) tuples, served by ``clients`` keep-alive httpx clients."""
    import httpx

    work = queue.Queue()
    for job in jobs:
        work.put(job)
    latencies, statuses, lock = [], {}, threading.Lock()

    def client():
        with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30) as http:
            while True:
                try:
                    method, path, body = work.get_nowait()
                except queue.Empty:
                    return
                t0 = time.perf_counter()
                response = http.request(method, path, json=body)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return {**_latency_stats(latencies), "rps": len(latencies) / wall, "statuses": statuses, "latencies": latencies}


def _latency_stats(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    return {"p50": statistics.median(latencies) * 1000, "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "n": len(latencies)}


def row(label: str, r: dict, floor: dict | None = None) -> str:
    ratio = f"{r['rps'] / floor['rps']:.2f}× floor" if floor else ""
    return (f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {ratio} | "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(r['statuses'].items()))} |")


def rounds_row(label: str, runs: list[dict], ratios: list[float] | None = None) -> str:
    """One line for a phase measured in several rounds: median rate, pooled latencies, and the median
    (and range) of the per-round ratios to the floor runs that bracket each phase."""
    pooled = _latency_stats([x for r in runs for x in r["latencies"]])
    rates = "–".join(f"{f(r['rps'] for r in runs):.0f}" for f in (min, max))
    ratio = (f"**{statistics.median(ratios):.2f}×** ({', '.join(f'{x:.2f}' for x in ratios)})" if ratios else "")
    statuses = {}
    for r in runs:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return (f"| {label} | {statistics.median(r['rps'] for r in runs):.0f} ({rates}) | {pooled['p50']:.1f} ms | "
            f"{pooled['p99']:.1f} ms | {ratio} | {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))} |")


PHASES = [("entry", "entry"), ("repeat entry (already_redeemed)", "entry"), ("exit", "exit")]


def http_phases(args, url, organizer, event, clist, token, secrets) -> list[str]:
    """Each round scans its own ``--tickets`` distinct tickets: entry, repeat entry, exit. Every phase is
    bracketed by two floor runs and compared with their mean, so the machine's load drifting during a
    run (a shared 2-core box) moves the floor and the phase together; the ratio reported is the median
    over the rounds."""
    port = free_port()
    server = start_gunicorn(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    redeem = f"/api/v1/organizers/{organizer.slug}/checkinrpc/redeem/"
    status = f"/api/v1/organizers/{organizer.slug}/events/{event.slug}/checkinlists/{clist.pk}/status/"
    ping = ("POST", "/api/v1/bench/ping", {"secret": "x", "lists": [clist.pk]})
    n = args.tickets

    def scans(kind, subset):
        return [("POST", redeem, {"secret": s, "lists": [clist.pk], "type": kind}) for s in subset]

    lines = ["| | req/s, median (range) | p50 | p99 | vs floor, median (rounds) | statuses |",
             "|---|---:|---:|---:|---:|---|"]
    status_jobs = [("GET", status, None)] * 200
    floors, phases = [], {label: ([], []) for label, _ in PHASES}
    statuses = []
    try:
        run_load(base, token, [ping] * 400, args.clients)  # warm both workers (imports, connections)
        floor = run_load(base, token, [ping] * n, args.clients)
        floors.append(floor)
        for r in range(args.rounds):
            subset = secrets[r * n:(r + 1) * n]
            for label, kind in PHASES:
                measured = run_load(base, token, scans(kind, subset), args.clients)
                after = run_load(base, token, [ping] * n, args.clients)
                floors.append(after)
                runs, ratios = phases[label]
                runs.append(measured)
                ratios.append(measured["rps"] / ((floor["rps"] + after["rps"]) / 2))
                floor = after
                if r == 0:  # the status endpoint after 1, 2 and 3 scans per ticket
                    statuses.append(run_load(base, token, status_jobs, 1))
        lines.append(rounds_row(f"floor: bare authenticated DRF POST, {args.clients} clients", floors))
        for label, _ in PHASES:
            runs, ratios = phases[label]
            lines.append(rounds_row(f"redeem {label}, {args.clients} clients", runs, ratios))
        floor1 = run_load(base, token, [ping] * 1000, 1)
        lines.append(row("floor, 1 client", floor1))
        spare = secrets[args.rounds * n:]
        lines.append(row("redeem entry, 1 client", run_load(base, token, scans("entry", spare[:1000]), 1), floor1))
        statuses.append(run_load(base, token, status_jobs, 1))
        total = args.rounds * n + 1000
        points = [(n, n), (n, 2 * n), (n, 3 * n), (total, 3 * args.rounds * n + 1000)]
        for (tickets, scans_so_far), measured in zip(points, statuses, strict=True):
            lines.append(row(f"list status, {tickets:,} tickets scanned, {scans_so_far:,} scans, 1 client", measured))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    return lines


def bulk_phases(args, event) -> list[str]:
    from checkin import services
    from checkin.services import ScanRequest

    clist, _ = room_inside(event, args.bulk, "bulk")
    t0 = time.perf_counter()
    result = services.bulk_checkout(event=event, lists=[clist])
    bulk_s = time.perf_counter() - t0
    assert result.batch.checked_out == args.bulk
    loop_list, ids = room_inside(event, args.loop, "loop")
    t0 = time.perf_counter()
    for pk in ids:
        assert services.checkout(ticket_id=pk, clist=loop_list, req=ScanRequest()).ok
    loop_s = time.perf_counter() - t0
    per_row = loop_s / args.loop
    extrapolated = per_row * args.bulk
    return [
        f"- bulk checkout of {args.bulk:,} people inside (one transaction, set-based service call): "
        f"**{bulk_s:.2f} s**",
        f"- per-row loop (`services.checkout` per person, one transaction each) measured on {args.loop:,}: "
        f"{loop_s:.2f} s = {per_row * 1000:.2f} ms/person, **extrapolated linearly to {args.bulk:,}: "
        f"{extrapolated:.0f} s**",
        f"- ratio: bulk is **{extrapolated / bulk_s:.0f}×** faster than the (extrapolated) loop",
    ]


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not url.startswith("postgres"):
        raise SystemExit("bench/checkin.py needs PostgreSQL in DATABASE_URL")
    recreate_database(url)
    setup_django(url)
    # Each round scans its own tickets; 1,000 more for the single-client entries.
    organizer, event, clist, token, secrets = seed(args.tickets * args.rounds + 1000)
    if args.history:
        # As in a database that has served a door before: the scan log and state table are not empty when
        # the workers prepare the door's statements. Empty, PostgreSQL's generic plan for the lock statement
        # is a sequential scan of the state table, kept for the connection's life (autovacuum, which would
        # re-ANALYZE and so re-plan, is off on the bench machine), and each round then costs more than the
        # one before. See bench/load_curve.py.
        room_inside(event, args.history, "earlier")
    print(f"Seeded {len(secrets)} tickets; gunicorn with {args.workers} sync workers; {args.clients} clients; "
          f"{args.rounds} rounds of {args.tickets:,} distinct tickets; {args.history:,} people inside another list; "
          f"load average before: {os.getloadavg()[0]:.1f}",
          flush=True)
    for line in http_phases(args, url, organizer, event, clist, token, secrets):
        print(line)
    for line in bulk_phases(args, event):
        print(line)
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
