"""Helpers shared by the bench scripts: a throw-away PostgreSQL database and latency statistics."""

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def recreate_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


# Production settings: DEBUG=true wraps every cursor in query logging and would measure that instead.
PRODUCTION_ENV = {"DEBUG": "false", "SECRET_KEY": "bench-only-" + "k" * 60, "ALLOWED_HOSTS": "127.0.0.1",
                  "SECURE_SSL_REDIRECT": "false"}


def setup_django(url: str, **environ: str) -> None:
    """Point Django at ``url`` (must run before django.setup in this process)."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    for key, value in {**PRODUCTION_ENV, **environ}.items():
        os.environ[key] = value
    import django

    django.setup()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def summary(latencies_s: list[float]) -> str:
    ms = [v * 1000 for v in latencies_s]
    return f"p50 {statistics.median(ms):.2f} ms, p99 {percentile(ms, 99):.2f} ms"
