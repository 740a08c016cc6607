"""Celery tasks: thin adapters that load by id and call a service that re-checks state."""

from celery import current_app, shared_task
from django.utils import timezone

from points_bridge import forwarding


@shared_task(acks_late=True, ignore_result=True)
def deliver_outbox_entry(*, outbox_id: int) -> None:
    wait = forwarding.deliver(outbox_id=outbox_id)
    # Eager mode (the embedded default, tests) would run the retry at once, with no backoff at all;
    # there the row waits, visible in the admin, for the sweep or a manual retry.
    if wait is not None and not current_app.conf.task_always_eager:
        deliver_outbox_entry.apply_async(kwargs={"outbox_id": outbox_id}, countdown=wait.total_seconds())


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """Beat, every minute: deliver what is due (missed retries, rows a crashed worker left behind)."""
    ids = forwarding.due_ids(at=timezone.now())
    for outbox_id in ids:
        deliver_outbox_entry.delay(outbox_id=outbox_id)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True)
def award_checkin(*, scan_id: int) -> int:
    """Pay the AwardRules for one check-in entry; a re-run is a replay (keyed by rule, ticket, list)."""
    from points_bridge import rules

    return len(rules.apply_checkin_rules(scan_id=scan_id))
