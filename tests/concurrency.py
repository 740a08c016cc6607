"""Real threads against real committed transactions (PostgreSQL only: SQLite serialises writers)."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency proofs need PostgreSQL (SQLite serialises writers)"
)


def run_concurrently(fn: Callable[[int], object], *, threads: int, timeout: float = 60) -> tuple[list, list]:
    """Run ``fn(i)`` in ``threads`` threads released together; return (results, exceptions).

    Each thread gets its own database connection and closes it, so every transaction really commits
    (or fails) on its own, as it would in separate gunicorn workers.
    """
    start = threading.Barrier(threads)
    results, errors, lock = [], [], threading.Lock()

    def worker(i: int) -> None:
        try:
            start.wait(timeout)
            value = fn(i)
            with lock:
                results.append(value)
        except Exception as exc:  # noqa: BLE001 - the caller asserts on what failed and why
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout)
    return results, errors
