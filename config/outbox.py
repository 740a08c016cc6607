"""The transactional outbox: no side effect of a committed change is ever lost.

Every Celery task that a change implies (achievement evaluation, emails, check-in awards, …) is recorded
with ``enqueue(task, **kwargs)`` as an ``OutboxTask`` row *in the change's own transaction*, so the row
commits or rolls back with the change. After commit the row is relayed to Celery; when the broker is
down that relay only logs a warning and the request still answers as usual.

A row is finished only when its task has run: the worker runs ``run(outbox_id=...)``, which claims the row
(``SELECT … FOR UPDATE SKIP LOCKED`` of an unfinished row), calls the task's body in-process, and marks
it done in the same transaction. So:

- delivered at least once: the beat ``sweep`` sends every unfinished row whose ``due_at`` has passed,
  including rows whose relay failed and rows whose message a broker without persistence forgot;
- applied once: a second message for a row finds it done (or locked by the worker running it) and does
  nothing. Database effects of the task commit together with ``done_at``; an email that was sent right
  before a crash between send and commit is the one duplicate left possible (as with ``acks_late``).

A task that raises is rolled back, the error and the attempt are recorded, and the row comes due again
with exponential backoff; nothing gives up on its own. The admin lists rows with their errors.

Tasks whose effect leaves the database (emails) say so with ``outbox_effect_outside_database=True``: when
such a task has run but the database is lost before its row is marked done, the mark is retried until
the database answers, instead of rolling back and sending the email a second time.
"""

import atexit
import logging
import os
import threading
import time
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import F, Min
from django.utils import timezone

from config import sql
from config.logs import warn_now_and_then
from config.models import OutboxTask

log = logging.getLogger(__name__)
SWEEP_BATCH = 500


def enqueue(task, /, **kwargs) -> OutboxTask:
    """Record that ``task(**kwargs)`` must run once the current transaction commits; relay it then."""
    return enqueue_many((task, kwargs))[0]


def enqueue_many(*calls: tuple) -> list[OutboxTask]:
    """``enqueue`` for several ``(task, kwargs)`` of one change: one INSERT (a prepared statement on
    PostgreSQL: every redemption and many awards write here) and one after-commit callback."""
    now = timezone.now()
    rows = sql.insert([OutboxTask(task=task.name, kwargs=kwargs, created=now, due_at=now + _resend_after(0))
                       for task, kwargs in calls])
    transaction.on_commit(partial(_relay_all, [row.pk for row in rows]))
    return rows


# At most this many rows per message from the background relay: one message runs its rows one after the
# other in one worker, so a huge batch would take the worker pool's parallelism away from them.
RELAY_BATCH = 50


def _relay_all(outbox_ids: list[int]) -> None:
    """After commit: hand the rows to the broker. With a real broker, the process's relay thread does it
    (``_Relay``), so the request answers without paying for a publish; eager Celery (tests, a site
    without Redis) publishes here, at once, as before."""
    if not current_app.conf.task_always_eager and settings.OUTBOX_RELAY_LINGER_MS > 0:
        _relay_thread.submit(outbox_ids)
        return
    _publish(outbox_ids)


def _publish(outbox_ids: list[int]) -> bool:
    """One message for ``outbox_ids``; False if the broker refused it (the rows wait for the sweep)."""
    if len(outbox_ids) == 1:
        return relay(outbox_ids[0])
    from config.tasks import run_outbox_tasks

    # One message for several rows: a publish costs more CPU than the rows' INSERT (a redemption's two
    # emails were two publishes, a fifth of its CPU). A lost message loses nothing: the sweep sends each
    # unfinished row again.
    try:
        run_outbox_tasks.apply_async(kwargs={"outbox_ids": outbox_ids})
    except Exception as exc:  # noqa: BLE001 - any broker trouble; the rows are safe in the database
        warn_now_and_then(log, "Outbox tasks %s wait for the sweep: the broker refused them (%s)", outbox_ids, exc)
        return False
    return True


class _Relay:
    """One publisher thread per process: committed requests drop their outbox ids here and return; the
    thread waits ``OUTBOX_RELAY_LINGER_MS`` for more and publishes what has gathered as one message
    (``plaudit.outbox.run_many``, at most RELAY_BATCH rows each). Under load, many requests' rows share
    one publish, which was the largest piece of a redemption's CPU after its statements.

    Nothing is lost if the process dies with ids still here: the rows are committed, and the sweep
    sends every unfinished row again once it is due (OUTBOX_RESEND_SECONDS). A normal exit publishes
    what is left (atexit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._ids: list[int] = []
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def submit(self, outbox_ids: list[int]) -> None:
        with self._lock:
            self._ids.extend(outbox_ids)
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                # First use in this process (a forked worker inherits no threads, only the attributes).
                self._pid, self._wake = os.getpid(), threading.Event()
                self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
                self._thread.start()
        self._wake.set()

    def _take(self) -> list[int]:
        with self._lock:
            taken, self._ids = self._ids, []
            self._wake.clear()
        return taken

    def _run(self) -> None:
        wake = self._wake
        while True:
            wake.wait()
            time.sleep(settings.OUTBOX_RELAY_LINGER_MS / 1000)  # let other requests' rows join this message
            self._send(self._take())

    @staticmethod
    def _send(outbox_ids: list[int]) -> None:
        for start in range(0, len(outbox_ids), RELAY_BATCH):
            try:
                sent = _publish(outbox_ids[start:start + RELAY_BATCH])
            except Exception:  # noqa: BLE001 - never let the thread die; the sweep has the rows
                log.exception("Outbox relay failed for %s; the sweep will send them", outbox_ids)
                sent = False
            if not sent:
                # The broker is down: the rest would fail the same way, each after its connection
                # timeout, while new ids pile up. They are committed rows; the sweep sends them.
                return

    def flush(self) -> None:
        """Publish what is waiting now, in the calling thread (at exit, and for tests)."""
        if self._pid == os.getpid():
            self._send(self._take())


_relay_thread = _Relay()
atexit.register(_relay_thread.flush)


def relay(outbox_id: int) -> bool:
    """Hand one row to the broker. Never raises: a broker outage leaves the row to the sweep."""
    from config.tasks import run_outbox_task

    try:
        run_outbox_task.apply_async(kwargs={"outbox_id": outbox_id})
    except Exception as exc:  # noqa: BLE001 - any broker trouble; the row is safe in the database
        warn_now_and_then(log, "Outbox task %s waits for the sweep: the broker refused it (%s)", outbox_id, exc)
        return False
    return True


def send_on_commit(task, /, **kwargs) -> None:
    """For tasks whose own table already records the work (forwarding's outbox): publish after commit,
    and never let a broker outage turn the committed request into an error; their sweep sends again."""

    def publish() -> None:
        try:
            task.apply_async(kwargs=kwargs)
        except Exception as exc:  # noqa: BLE001 - any broker trouble
            warn_now_and_then(log, "Task %s waits for its sweep: the broker refused it (%s)", task.name, exc)

    transaction.on_commit(publish)


def run(*, outbox_id: int) -> bool:
    """Run one row's task once (the worker's side). Returns whether it ran now."""
    sent_outside = False
    try:
        with transaction.atomic():
            row = (OutboxTask.objects.select_for_update(skip_locked=True)
                   .filter(pk=outbox_id, done_at__isnull=True).first())
            if row is None:
                return False  # done already, or being run by another worker right now
            task = current_app.tasks[row.task]
            task(**row.kwargs)
            sent_outside = getattr(task, "outbox_effect_outside_database", False)
            _mark_done(row.pk)
        return True
    except Exception as exc:
        if sent_outside and isinstance(exc, DatabaseError):
            # The email left; only recording that failed (the database was lost at the commit). Running
            # the task again would send it twice: record it as soon as the database answers instead.
            return _mark_done_when_the_database_is_back(outbox_id, exc)
        log.warning("Outbox task %s failed; it will be retried: %r", outbox_id, exc)
        _record_failure(outbox_id, exc)
        return False


def _mark_done(outbox_id: int) -> None:
    OutboxTask.objects.filter(pk=outbox_id, done_at__isnull=True).update(done_at=timezone.now())


def _mark_done_when_the_database_is_back(outbox_id: int, exc: Exception, *, tries: int = 12) -> bool:
    """Retry for about half a minute (a PostgreSQL restart), well within OUTBOX_RESEND_SECONDS, before
    the sweep could hand the row to another run."""
    for attempt in range(tries):
        close_old_connections()
        try:
            _mark_done(outbox_id)
            return True
        except DatabaseError as again:
            exc = again
            time.sleep(min(0.25 * 2 ** attempt, 4))
    log.error("Outbox task %s ran, but could not be marked done (%r): it will run again", outbox_id, exc)
    return False


def sweep(*, at: datetime | None = None) -> int:
    """Beat: send again every unfinished row that is due; forget finished rows after OUTBOX_KEEP_DAYS.

    Each sent row's next ``due_at`` doubles with every send (up to 8 × OUTBOX_RESEND_SECONDS), so a long
    worker outage queues one wake-up per row every few minutes (harmless: a done row is skipped), not one
    per sweep. A row the broker refused is left as it was, to be tried at the next sweep."""
    at = at or timezone.now()
    rows = list(OutboxTask.objects.filter(done_at__isnull=True, due_at__lte=at)
                .order_by("due_at").values_list("pk", "dispatches")[:SWEEP_BATCH])
    sent = 0
    for outbox_id, dispatches in rows:
        if not relay(outbox_id):
            break  # the broker is down: every other row would fail the same way; the next sweep tries again
        OutboxTask.objects.filter(pk=outbox_id).update(due_at=at + _resend_after(dispatches + 1),
                                                       dispatches=F("dispatches") + 1)
        sent += 1
    purge(before=at - timedelta(days=settings.OUTBOX_KEEP_DAYS))
    return sent


def purge(*, before: datetime) -> int:
    old = OutboxTask.objects.filter(done_at__lt=before).values_list("pk", flat=True)[:SWEEP_BATCH * 10]
    return OutboxTask.objects.filter(pk__in=list(old)).delete()[0]


def oldest_pending_age(*, at: datetime | None = None) -> timedelta | None:
    """How long the oldest unfinished row has waited (None when nothing waits): the outbox lag."""
    oldest = OutboxTask.objects.filter(done_at__isnull=True).aggregate(oldest=Min("created"))["oldest"]
    return None if oldest is None else (at or timezone.now()) - oldest


def pending_count() -> int:
    return OutboxTask.objects.filter(done_at__isnull=True).count()


def _record_failure(outbox_id: int, exc: Exception) -> None:
    row = OutboxTask.objects.filter(pk=outbox_id, done_at__isnull=True).values("attempts").first()
    if row is None:
        return
    OutboxTask.objects.filter(pk=outbox_id).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000],
        due_at=timezone.now() + _resend_after(row["attempts"] + 1),
    )


def _resend_after(times: int) -> timedelta:
    """OUTBOX_RESEND_SECONDS, doubled for each earlier send or failure, at most 8 times as long: a message
    the broker lost on a restart waits at most that long after the broker is back."""
    return timedelta(seconds=settings.OUTBOX_RESEND_SECONDS) * 2 ** min(times, 3)
