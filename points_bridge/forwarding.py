"""Forwarding every ledger entry to an external Point System (POINT_SYSTEM_FORWARD_URL) via an outbox.

- ``enqueue`` runs inside the ledger entry's transaction (a ledger_entry_posted receiver), so the
  outbox row commits or rolls back with the entry: nothing is lost when the external system is down,
  and nothing is sent for an entry that never committed.
- ``deliver`` claims a row with a conditional UPDATE (pending → sending) and trusts the row count, so
  two workers never send the same row at the same time. The HTTP call happens outside any transaction
  or lock. Every request carries ``Idempotency-Key: plaudit-ledger-<entry id>``, so a retry after a lost
  response cannot double-count on a receiver that honours the key.
- Failures back off exponentially up to FORWARD_MAX_ATTEMPTS, then stay "failed" in the admin, which
  has a retry action; the ``sweep_outbox`` beat task picks up due rows and rows a dead worker left.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from config.outbox import send_on_commit
from engagement.models import LedgerEntry
from points_bridge import conf
from points_bridge.models import OutboxEntry
from points_bridge.point_system import transaction_type

logger = logging.getLogger(__name__)
Status = OutboxEntry.Status
SWEEP_BATCH = 500


def enqueue(*, entry: LedgerEntry) -> OutboxEntry | None:
    if not conf.forward_url():
        return None
    from points_bridge.tasks import deliver_outbox_entry

    row = OutboxEntry.objects.create(entry=entry)
    send_on_commit(deliver_outbox_entry, outbox_id=row.pk)
    return row


def request_for(entry: LedgerEntry) -> tuple[str, dict, dict] | None:
    """(url, query, JSON body) of the protocol call that mirrors ``entry``; None if there is nothing the
    protocol can say (a member the other side has no id for, or an XP-only entry)."""
    external_id = entry.member.external_id
    if external_id is None or entry.points == 0:
        return None
    activity_id = entry.activity.external_id if entry.activity_id else None
    body = {"points": abs(entry.points), "description": (entry.meta or {}).get("description") or entry.reason,
            "activity_id": activity_id}
    base = conf.forward_url().rstrip("/")
    if entry.points < 0:
        return f"{base}/points/{external_id}/remove", {}, body
    kind = "activity" if transaction_type(entry) == "activity" and activity_id is not None else "manual"
    if kind == "activity":
        body["timestamp"] = entry.created.astimezone(UTC).isoformat()
    return f"{base}/points/{external_id}/add", {"type": kind}, body


def backoff(attempts: int) -> timedelta:
    return min(conf.FORWARD_BACKOFF_BASE * 2 ** max(attempts - 1, 0), conf.FORWARD_BACKOFF_MAX)


def _claim(outbox_id: int, at: datetime) -> OutboxEntry | None:
    claimed = OutboxEntry.objects.filter(pk=outbox_id, status=Status.PENDING, next_attempt_at__lte=at).update(
        status=Status.SENDING, claimed_at=at, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return None  # another worker has it, it is not due yet, or it is already done
    return OutboxEntry.objects.select_related("entry__member", "entry__activity").get(pk=outbox_id)


def _finish(row: OutboxEntry, **fields) -> None:
    OutboxEntry.objects.filter(pk=row.pk, status=Status.SENDING).update(**fields)


def _post(url: str, query: dict, body: dict, *, entry_id: int) -> httpx.Response:
    headers = {"Idempotency-Key": f"plaudit-ledger-{entry_id}", "Accept": "application/json"}
    if conf.forward_key():
        headers["Authorization"] = f"Bearer {conf.forward_key()}"
    return httpx.post(url, params=query, json=body, headers=headers, timeout=conf.FORWARD_TIMEOUT_SECONDS,
                      follow_redirects=False)


def deliver(*, outbox_id: int, at: datetime | None = None) -> timedelta | None:
    """Try to send one row. Returns how long to wait before the next attempt, or None when there is
    nothing more to do (sent, skipped, gave up, or not ours to send)."""
    at = at or timezone.now()
    row = _claim(outbox_id, at)
    if row is None:
        return None
    request = request_for(row.entry)
    if request is None:
        _finish(row, status=Status.SKIPPED, last_error="No external user id, or no points to forward.")
        return None
    try:
        response = _post(*request, entry_id=row.entry_id)
    except httpx.HTTPError as exc:
        return _failed(row, f"{type(exc).__name__}: {exc}", None, at)
    if response.is_success:
        _finish(row, status=Status.SENT, sent_at=timezone.now(), last_status_code=response.status_code, last_error="")
        return None
    return _failed(row, response.text[:500], response.status_code, at)


def _failed(row: OutboxEntry, error: str, status_code: int | None, at: datetime) -> timedelta | None:
    # Every failure is retried, 4xx included: a 409 on a removal can be an earlier add still in our
    # queue; after FORWARD_MAX_ATTEMPTS a person looks at it in the admin.
    logger.warning("forwarding ledger entry %s failed (attempt %s): %s", row.entry_id, row.attempts, error)
    if row.attempts >= conf.FORWARD_MAX_ATTEMPTS:
        _finish(row, status=Status.FAILED, last_error=error, last_status_code=status_code)
        return None
    wait = backoff(row.attempts)
    _finish(row, status=Status.PENDING, next_attempt_at=at + wait, last_error=error, last_status_code=status_code)
    return wait


def due_ids(*, at: datetime) -> list[int]:
    """Give back rows a dead worker left in "sending", then list what is due, oldest first."""
    OutboxEntry.objects.filter(status=Status.SENDING, claimed_at__lt=at - conf.FORWARD_STUCK_AFTER).update(
        status=Status.PENDING, next_attempt_at=at
    )
    due = OutboxEntry.objects.filter(status=Status.PENDING, next_attempt_at__lte=at).order_by("next_attempt_at")
    return list(due.values_list("pk", flat=True)[:SWEEP_BATCH])


@transaction.atomic
def requeue(
    *, outbox: QuerySet[OutboxEntry], on_changed: Callable[[list[OutboxEntry]], object] | None = None
) -> int:
    """The admin's retry: failed (or waiting) rows get a fresh set of attempts, now. Rows being sent or
    already done are left alone; ``on_changed(requeued)`` runs inside the transaction with the rest."""
    from points_bridge.tasks import deliver_outbox_entry

    ids = list(outbox.values_list("pk", flat=True))
    # Locked, so a row a worker claims (pending → sending) meanwhile is re-checked and left out, rather
    # than reset under the worker; the worker's claim waits for this transaction instead.
    retryable = OutboxEntry.objects.select_for_update().filter(pk__in=ids, status__in=[Status.FAILED, Status.PENDING])
    requeued = list(retryable.order_by("pk").values_list("pk", flat=True))
    if not requeued:
        return 0
    OutboxEntry.objects.filter(pk__in=requeued).update(status=Status.PENDING, attempts=0,
                                                       next_attempt_at=timezone.now())
    if on_changed is not None:
        on_changed(list(OutboxEntry.objects.filter(pk__in=requeued).order_by("pk")))
    for outbox_id in requeued:
        send_on_commit(deliver_outbox_entry, outbox_id=outbox_id)
    return len(requeued)
