"""Receivers of other apps' signals. They only write rows in the sender's transaction and enqueue
Celery tasks on commit (ids only); no I/O happens inline."""

from config import outbox
from points_bridge import forwarding, rules


def forward_ledger_entry(sender, entry, member, **kwargs) -> None:
    """engagement.ledger_entry_posted → an outbox row in the same transaction (if forwarding is on)."""
    forwarding.enqueue(entry=entry)


def award_checkin(sender, scan, ticket, checkin_list, **kwargs) -> None:
    """checkin.checkin_recorded → a task paying the matching AwardRules, after the scan commits.

    Tickets without a linked member are skipped here: we do not guess a member from the attendee's
    e-mail address, which nobody verified. One indexed query per entry scan decides whether there is
    anything to do, so lists without rules cost the door no Celery message."""
    if scan.type != "entry" or ticket is None or ticket.member_id is None:
        return
    if not rules.rules_for_checkin(checkin_list_id=checkin_list.pk).exists():
        return
    from points_bridge.tasks import award_checkin as task

    outbox.enqueue(task, scan_id=scan.pk)
