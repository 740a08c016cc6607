"""What the common request path costs, piece by piece: the bare authenticated DRF POST (the door
benchmark's floor) under gunicorn with the production settings, with one setting or middleware taken
out at a time (``bench/settings_variants.py``), measured over HTTP, not in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plaudit_bench_common .venv/bin/python bench/common_path.py

The database named in DATABASE_URL is DROPPED and recreated. Every variant runs in every round, in turn,
so a load change on the machine moves them all; the table gives the median over the rounds.
``--profile`` instead runs the production settings under cProfile in one gunicorn worker and prints the
top functions by cumulative time.
Not run by CI; no figure here is asserted anywhere.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkin import SERVER_ENV, free_port, recreate_database, run_load, setup_django  # noqa: E402

VARIANTS = {
    "production settings": {},
    "- request metrics": {"BENCH_DROP_MIDDLEWARE": "config.metrics.RequestMetricsMiddleware"},
    "- trusted proxies": {"BENCH_DROP_MIDDLEWARE": "config.proxies.TrustedProxyMiddleware"},
    "- input guard": {"BENCH_DROP_MIDDLEWARE": "config.middleware.InputGuardMiddleware"},
    "- CSP": {"BENCH_DROP_MIDDLEWARE": "csp.middleware.CSPMiddleware,config.csp.CSPMiddleware"},
    "- axes": {"BENCH_DROP_MIDDLEWARE": "axes.middleware.AxesMiddleware"},
    "- connection health checks": {"BENCH_NO_HEALTH_CHECKS": "true"},
}

PROFILE_HOOKS = '''
import cProfile, os, pstats
_profiles = {}
def post_fork(server, worker):
    _profiles[worker.pid] = p = cProfile.Profile()
def pre_request(worker, req):
    _profiles[worker.pid].enable()
def post_request(worker, req, environ, resp):
    _profiles[worker.pid].disable()
def worker_exit(server, worker):
    p = _profiles.get(worker.pid)
    if p is not None:
        p.dump_stats(os.environ["BENCH_PROFILE_OUT"])
'''


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="per variant, round and client count")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    parser.add_argument("--compare", type=Path, action="append", default=[],
                        help="also serve this checkout (production settings) in every round, as a variant named "
                             "after its folder: before/after in one run")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="serve this checkout instead (e.g. an export of another commit, with this "
                             "bench/settings_variants.py copied in and .venv linked)")
    return parser.parse_args()


def seed() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("floor", password="x")
    return Token.objects.create(user=user).key


def start(root: Path, url: str, port: int, workers: int, extra: dict, config: str | None = None) -> subprocess.Popen:
    import httpx

    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings_variants",
           **extra}
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "--keep-alive", "30"] + (["-c", config] if config else [])
    proc = subprocess.Popen(cmd, cwd=root, env=env, start_new_session=True)
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/bench/ping").status_code == 401:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    stop(proc)
    raise SystemExit("gunicorn did not start")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)


PING = ("POST", "/api/v1/bench/ping", {"secret": "x", "lists": [1]})


def measure(args, url: str, token: str) -> None:
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(VARIANTS)
    roots = dict.fromkeys(names, args.root)
    for other in args.compare:
        roots[f"{other.name} (production settings)"] = other
    variants = {**VARIANTS, **{name: {} for name in roots if name not in VARIANTS}}
    names = list(roots)
    results = {name: {1: [], args.clients: []} for name in names}
    for _ in range(args.rounds):
        for name in names:
            port = free_port()
            server = start(roots[name], url, port, args.workers, variants[name])
            base = f"http://127.0.0.1:{port}"
            try:
                run_load(base, token, [PING] * 400, args.clients)  # warm every worker
                for clients in (1, args.clients):
                    results[name][clients].append(run_load(base, token, [PING] * args.requests, clients))
            finally:
                stop(server)
    print(f"| variant | 1 client req/s | 1 client p50 | {args.clients} clients req/s | {args.clients} clients p50 "
          f"| {args.clients} clients p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        one, many = results[name][1], results[name][args.clients]
        med = statistics.median
        print(f"| {name} | {med(r['rps'] for r in one):.0f} | {med(r['p50'] for r in one):.2f} ms | "
              f"{med(r['rps'] for r in many):.0f} | {med(r['p50'] for r in many):.2f} ms | "
              f"{med(r['p99'] for r in many):.2f} ms |")


def profile(args, url: str, token: str) -> None:
    import pstats

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "hooks.py"
        config.write_text(PROFILE_HOOKS)
        out = Path(tmp) / "worker.prof"
        port = free_port()
        server = start(args.root, url, port, 1, {"BENCH_PROFILE_OUT": str(out)}, config=str(config))
        try:
            run_load(f"http://127.0.0.1:{port}", token, [PING] * args.requests, 1)
        finally:
            stop(server)
        stats = pstats.Stats(str(out))
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/plaudit_bench_common"
    recreate_database(url)
    setup_django(url)
    token = seed()
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    (profile if args.profile else measure)(args, url, token)
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
