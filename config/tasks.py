"""Celery tasks of the shared ground: the outbox runner and its sweep (config/outbox.py)."""

from celery import shared_task

from config import outbox


@shared_task(name="plaudit.outbox.run", acks_late=True, ignore_result=True)
def run_outbox_task(*, outbox_id: int) -> bool:
    return outbox.run(outbox_id=outbox_id)


@shared_task(name="plaudit.outbox.sweep", ignore_result=True)
def sweep_outbox() -> int:
    return outbox.sweep()
