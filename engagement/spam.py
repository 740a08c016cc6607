"""Spam screening of actions reported through ``POST /engagement/events`` with text in ``meta``
(comments and the like). Three rules, thresholds in settings (ENGAGEMENT_SPAM_*):

- duplicate: the same text (case and spacing ignored) as one of the member's texts in the last
  ``DUPLICATE_WINDOW`` seconds;
- links: more than ``MAX_LINKS`` links in the text;
- burst: ``BURST`` or more texts from the member in the last ``BURST_WINDOW`` seconds already.

The member's recent texts are read from their own ledger entries (one query over the member history
index, at most ``RECENT`` rows), so only actions that were awarded count as "recent". A refused action
is kept as a SpamReport for the admin review list. Heuristics, not guarantees: two identical texts
sent at the same instant can both pass (we take no lock for this).
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from engagement.models import LedgerEntry, Member, SpamReport

TEXT_KEYS = ("text", "body", "content", "comment", "message")
LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
RECENT = 50


@dataclass(frozen=True)
class Thresholds:
    duplicate_window: int
    max_links: int
    burst: int
    burst_window: int


def thresholds() -> Thresholds:
    return Thresholds(
        duplicate_window=settings.ENGAGEMENT_SPAM_DUPLICATE_WINDOW, max_links=settings.ENGAGEMENT_SPAM_MAX_LINKS,
        burst=settings.ENGAGEMENT_SPAM_BURST, burst_window=settings.ENGAGEMENT_SPAM_BURST_WINDOW,
    )


def text_of(meta: dict) -> str | None:
    """The action's text: the first of TEXT_KEYS holding a non-empty string."""
    for key in TEXT_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def fingerprint(text: str) -> str:
    return hashlib.sha256(" ".join(text.casefold().split()).encode()).hexdigest()


def _recent(member: Member, since: datetime) -> list[tuple[datetime, str]]:
    rows = (LedgerEntry.objects.filter(member=member, created__gte=since).order_by("-created", "-id")
            .values_list("created", "meta")[:RECENT])
    return [(created, fingerprint(text)) for created, meta in rows
            if isinstance(meta, dict) and (text := text_of(meta)) is not None]


def verdict(*, member: Member, text: str, at: datetime) -> str | None:
    """The rule the text breaks (a SpamReport.Rule value), or None."""
    limits = thresholds()
    if len(LINK.findall(text)) > limits.max_links:
        return SpamReport.Rule.LINKS
    window = max(limits.duplicate_window, limits.burst_window)
    recent = _recent(member, at - timedelta(seconds=window))
    mine = fingerprint(text)
    duplicate_since = at - timedelta(seconds=limits.duplicate_window)
    if any(created >= duplicate_since and print_ == mine for created, print_ in recent):
        return SpamReport.Rule.DUPLICATE
    burst_since = at - timedelta(seconds=limits.burst_window)
    if sum(created >= burst_since for created, _ in recent) >= limits.burst:
        return SpamReport.Rule.BURST
    return None


def screen(*, member: Member, reason: str, meta: dict, actor=None, at: datetime | None = None) -> SpamReport | None:
    """Judge an action's text; a suspected one is recorded (and returned), a clean one returns None."""
    text = text_of(meta)
    if text is None:
        return None
    at = at or timezone.now()
    rule = verdict(member=member, text=text, at=at)
    if rule is None:
        return None
    return SpamReport.objects.create(member=member, reason=reason, rule=rule, text=text[:5000], meta=meta,
                                     actor=actor if getattr(actor, "pk", None) else None, created=at)
