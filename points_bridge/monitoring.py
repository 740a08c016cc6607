"""Forwarding's outbox lag for /healthz and /metrics (config/monitoring.py)."""

from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from config import monitoring
from points_bridge.models import OutboxEntry


@monitoring.outbox("forwarding")
def forwarding_oldest_pending_age() -> timedelta | None:
    """Rows being sent count as undelivered too: a worker that died mid-send leaves them "sending"."""
    oldest = (OutboxEntry.objects.filter(status__in=[OutboxEntry.Status.PENDING, OutboxEntry.Status.SENDING])
              .aggregate(oldest=Min("created"))["oldest"])
    return None if oldest is None else timezone.now() - oldest
