"""A write path against its floor: capture the statements one real call sends, replay them through raw
psycopg, and time both sides in worker processes, in alternating rounds of the same run.

The floor is what the service could approach and not beat: the same statements, in the same order,
with the same parameters, on the same database, but no ORM, no Django, no Python domain logic. What a
capture keeps per call:

- values the caller marks as unique per call (idempotency keys): replaced by fresh ones each call;
- ids a statement's ``RETURNING`` produced and a later statement uses (the redemption's entry, the
  claim's entry, the outbox rows' …): replaced by what the replayed statement returned;
- everything else (member ids, timestamps, JSON): replayed as captured, so a capture is per member;
  each worker process gets its own capture, taken for its own member.

BEGIN and COMMIT are psycopg's own on both sides (the capture sees SAVEPOINTs, and replays them).
"""

import json
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable
from queue import Empty

from _common import summary

UNIQUE, RETURNED = "unique", "returned"


def _plain(value):
    # Django wraps JSON in psycopg's Jsonb with its own encoder, which cannot travel to a process
    # without Django; the same JSON as text is what PostgreSQL receives anyway.
    if type(value).__name__ == "Jsonb" and hasattr(value, "obj"):
        return json.dumps(value.obj)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # choices enums (int/str subclasses of the models) pickle by reference
    if isinstance(value, str):
        return str(value)
    return value


def capture(call: Callable[[], object], *, unique: Callable[[str], bool]) -> list[tuple[str, list, object]]:
    """Run ``call()`` once and return its statements as (sql, params, first id it returned or None)."""
    from django.db import connection

    sent = []

    def record(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        returned = None
        raw = context["cursor"].cursor
        # A RETURNING inside a WITH (the totals upsert that also writes the histogram rows) returns nothing.
        if " RETURNING " in sql and raw.description is not None:
            rows = raw.fetchall()
            raw.scroll(0, mode="absolute")  # hand the rows to the caller untouched
            returned = [row[0] for row in rows]
        sent.append((sql, [_plain(p) for p in params or ()], returned))
        return result

    with connection.execute_wrapper(record):
        call()
    produced, statements = set(), []
    for sql, params, returned in sent:
        marked = []
        for p in params:
            if isinstance(p, str) and unique(p):
                marked.append((UNIQUE, p))
            elif isinstance(p, int) and not isinstance(p, bool) and p in produced:
                marked.append((RETURNED, p))
            else:
                marked.append(p)
        statements.append((sql, marked, returned))
        produced.update(v for v in returned or () if isinstance(v, int))
    return statements


def replay(conn, statements, tag: str) -> None:
    """One call's statements through raw psycopg, then COMMIT."""
    new_ids = {}

    def value(p):
        if isinstance(p, tuple) and len(p) == 2 and p[0] in (UNIQUE, RETURNED):
            return f"{p[1]}~{tag}" if p[0] == UNIQUE else new_ids[p[1]]
        return p

    with conn.cursor() as cursor:
        for sql, params, returned in statements:
            cursor.execute(sql, [value(p) for p in params])
            if returned is not None:
                new_ids.update(zip(returned, (row[0] for row in cursor.fetchall()), strict=True))
    conn.commit()


def floor_worker(url: str, statements, tag: str, calls: int, queue, go) -> None:
    import psycopg

    latencies = []
    with psycopg.connect(url) as conn:
        queue.put("ready")
        go.wait()
        for i in range(calls):
            started = time.perf_counter()
            replay(conn, statements, f"{tag}.{i}")
            latencies.append(time.perf_counter() - started)
    queue.put(latencies)


_runs = iter(range(1_000_000))


def run(target, args_per_worker: list, calls: int) -> tuple[float, list[float]]:
    """``target(*args, tag, calls, queue, go)`` in one process per entry of ``args_per_worker``.

    The clock starts once every process has started, imported what it needs and connected, and stops
    when the last one has finished: start-up (heavier for Django than for bare psycopg) is not measured.
    """
    run_id = next(_runs)
    ctx = mp.get_context("spawn")
    queue, go = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=target, args=(*args, f"r{run_id}w{w}", calls, queue, go))
             for w, args in enumerate(args_per_worker)]
    for p in procs:
        p.start()
    for _ in procs:
        _get(queue, target)
    started = time.perf_counter()
    go.set()
    latencies = []
    for _ in procs:
        latencies += _get(queue, target)
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return calls * len(procs) / elapsed, latencies


def _get(queue, target):
    try:
        return queue.get(timeout=900)
    except Empty:
        raise SystemExit(f"a {target.__name__} process died; see its traceback above") from None


def compare(*, label: str, service, service_args: list, floor_args: list, calls: int, rounds: int,
            warm: int) -> float:
    """Rounds alternating which side goes first; each round's ratio compares two runs seconds apart, so
    a change in the shared machine's load hits both sides of a ratio alike. Prints and returns the
    median of the rounds' service/floor ratios."""
    run(floor_worker, floor_args, warm)
    run(service, service_args, warm)
    ratios, floor_all, service_all, rates = [], [], [], []
    for r in range(rounds):
        sides = [("floor", floor_worker, floor_args), ("service", service, service_args)]
        result = {}
        for name, target, args in sides if r % 2 == 0 else sides[::-1]:
            result[name] = run(target, args, calls)
        (floor_rate, floor_lat), (service_rate, service_lat) = result["floor"], result["service"]
        floor_all += floor_lat
        service_all += service_lat
        rates.append((floor_rate, service_rate))
        ratios.append(service_rate / floor_rate)
        print(f"  {label} round {r + 1}: floor {floor_rate:6.0f}/s, service {service_rate:6.0f}/s, "
              f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"  {label} floor   latency: {summary(floor_all)}")
    print(f"  {label} service latency: {summary(service_all)}")
    print(f"  {label} median rate: floor {statistics.median(r[0] for r in rates):.0f}/s, "
          f"service {statistics.median(r[1] for r in rates):.0f}/s")
    print(f"  {label} ratio service/floor: median {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})", flush=True)
    return statistics.median(ratios)


def lift_sequences(*models) -> None:
    """Start the ids of ``models`` far above every other id in the bench, so that a captured parameter
    equal to an id some statement returned is that id and not, by chance, a member's."""
    from django.db import connection

    with connection.cursor() as cursor:
        for n, model in enumerate(models, start=1):
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                           [model._meta.db_table, n * 100_000_000])
