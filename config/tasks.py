"""Celery tasks of the shared ground: the outbox runner and its sweep (config/outbox.py), the heartbeat."""

from celery import shared_task

from config import outbox
from config.health import record_heartbeat


@shared_task(name="plaudit.outbox.run", acks_late=True, ignore_result=True)
def run_outbox_task(*, outbox_id: int) -> bool:
    return outbox.run(outbox_id=outbox_id)


@shared_task(name="plaudit.outbox.run_many", acks_late=True, ignore_result=True)
def run_outbox_tasks(*, outbox_ids: list[int]) -> int:
    """The rows one change recorded, in one message (a publish costs more CPU than the rows' INSERT).
    Each row still runs in its own transaction; one that fails is left to the sweep."""
    return sum(outbox.run(outbox_id=outbox_id) for outbox_id in outbox_ids)


@shared_task(name="plaudit.outbox.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return outbox.sweep()


@shared_task(name="plaudit.heartbeat", ignore_result=True)
def heartbeat() -> None:
    record_heartbeat(name="worker")
