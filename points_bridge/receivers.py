"""Receivers of other apps' signals. They only write rows in the sender's transaction and enqueue
Celery tasks on commit; no I/O happens inline."""

from points_bridge import forwarding


def forward_ledger_entry(sender, entry, member, **kwargs) -> None:
    """engagement.ledger_entry_posted → an outbox row in the same transaction (if forwarding is on)."""
    forwarding.enqueue(entry=entry)
