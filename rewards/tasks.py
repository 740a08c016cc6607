"""Celery tasks: thin adapters that load by id and send. Enqueued by services with ``delay_on_commit``.

Delivery is at least once (``acks_late``): a worker that dies after the provider accepted a message
but before acknowledging it sends that email again. We accept a rare duplicate over a lost email.
"""

from anymail.exceptions import AnymailAPIError
from celery import shared_task

RETRYABLE = (OSError, AnymailAPIError)  # SMTP connection trouble, provider 5xx/timeouts


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60, outbox_effect_outside_database=True)
def send_redemption_email(self, *, redemption_id: int, event: str) -> int:
    """Tell the member their redemption was ``event`` (redeemed, approved, fulfilled, rejected)."""
    from rewards import emails

    try:
        return emails.send_member_email(redemption_id=redemption_id, event=event)
    except RETRYABLE as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60, outbox_effect_outside_database=True)
def notify_admins_of_pending(self, *, redemption_id: int) -> int:
    """Tell the admins a redemption waits in the queue (with a link to it)."""
    from rewards import emails

    try:
        return emails.send_pending_notice(redemption_id=redemption_id)
    except RETRYABLE as exc:
        raise self.retry(exc=exc) from exc
