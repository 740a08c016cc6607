"""Celery tasks of the checkin app: thin adapters that carry ids and call services."""

import logging

from celery import shared_task

from checkin import services

log = logging.getLogger(__name__)


@shared_task
def run_scheduled_checkouts() -> int:
    """Beat entry: queue one checkout per list whose ``exit_all_at`` has passed."""
    due = services.due_scheduled_checkouts()
    for list_id in due:
        scheduled_checkout.delay(list_id=list_id)
    return len(due)


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=30)
def scheduled_checkout(self, *, list_id: int) -> int:
    # Safe to run twice: the service claims the list with a conditional UPDATE first.
    result = services.run_scheduled_checkout(list_id=list_id)
    return 0 if result is None else result.batch.checked_out
