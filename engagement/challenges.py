"""Challenges: time-boxed goals in the achievement rule language, completed and paid once per member.

A challenge's rule is read with ``MemberFacts(window=(starts_at, ends_at))``, so it counts only ledger
entries created inside the window (and of the challenge's activity, if it has one). Challenge rewards
never count towards any challenge (the window leaves them out), so a completion cannot cascade.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config import outbox
from engagement import services
from engagement.achievement_rules import WINDOW_EXCLUDED_PREFIX, MemberFacts, Progress, leaves, progress
from engagement.achievements import Triggers, entry_moves, triggers_of
from engagement.models import Challenge, ChallengeCompletion, LedgerEntry, Member

REASON_PREFIX = WINDOW_EXCLUDED_PREFIX
STATES = ("open", "completed", "all")
# Evaluation normally runs right after the entry commits, but a broker outage can delay it; entries
# inside the window still complete a challenge evaluated this long after it ended.
LATE_GRACE = timedelta(days=1)
ALL_LIMIT = 100
GOAL_LABELS = {
    "checkins": _("Check-ins"),
    "points": _("Points earned"),
    "xp": _("XP earned"),
    "distinct_activities": _("Activities"),
    "streak": _("Days in a row"),
}
REASON_LABELS = {
    "comment_create": _("Comments"),
    "comment_reacted": _("Reactions"),
    "poll_vote": _("Votes"),
    "newsletter_subscribe": _("Newsletter subscription"),
    "checkin": _("Check-ins"),
    "claim": _("QR claims"),
}


@dataclass
class Goal:
    rule: dict
    progress: Progress

    @property
    def label(self) -> str:
        if self.rule["type"] == "reason_count":
            return str(REASON_LABELS.get(self.rule["reason"], self.rule["reason"]))
        return str(GOAL_LABELS[self.rule["type"]])


@dataclass
class Status:
    challenge: Challenge
    progress: Progress
    completion: ChallengeCompletion | None
    goals: list[Goal] = field(default_factory=list)
    at: datetime | None = None

    @property
    def completed(self) -> bool:
        return self.completion is not None

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.challenge.ends_at - self.at).total_seconds()))

    @property
    def percent(self) -> int:
        return min(self.progress.current, self.progress.target) * 100 // self.progress.target


def reason_for(challenge: Challenge) -> str:
    return f"{REASON_PREFIX}{challenge.code}"


def payment_key(challenge: Challenge, member_id: int) -> str | None:
    """The reward's idempotency key: one payment per member and challenge, whoever completes it.
    (A seam: the negative-control race test replaces it to show double pay without the guards.)"""
    return f"{REASON_PREFIX}{challenge.code}:{member_id}"


def facts_for(member: Member, challenge: Challenge) -> MemberFacts:
    return MemberFacts(member, window=(challenge.starts_at, challenge.ends_at), activity_id=challenge.activity_id)


def open_challenges(*, at: datetime) -> QuerySet[Challenge]:
    return Challenge.objects.filter(active=True, starts_at__lte=at, ends_at__gt=at)


def evaluable(*, at: datetime) -> QuerySet[Challenge]:
    """Challenges an evaluation at ``at`` may complete: started, and not ended more than LATE_GRACE ago."""
    return Challenge.objects.filter(active=True, starts_at__lte=at, ends_at__gt=at - LATE_GRACE)


# --- Completing ------------------------------------------------------------------------------------


def complete(*, member: Member, challenge: Challenge, at: datetime) -> ChallengeCompletion | None:
    """Record the completion and pay the reward in one transaction; None if the member already has it.

    The member lock serialises two evaluations of one member (an after-commit task and a read of the
    challenges list, say); the unique (member, challenge) constraint and the reward's idempotency key
    would each stop a second payment on their own. MemberBanned rolls the completion back."""
    with transaction.atomic():
        holder = services.lock_member(member.pk)
        if ChallengeCompletion.objects.filter(member_id=member.pk, challenge=challenge).exists():
            return None
        completion = ChallengeCompletion.objects.create(member_id=member.pk, challenge=challenge, completed_at=at)
        if challenge.points or challenge.xp:
            completion.entry = services.award(
                member=holder, reason=reason_for(challenge), points=challenge.points, xp=challenge.xp,
                activity=challenge.activity, meta={"challenge": challenge.code}, at=at,
                idempotency_key=payment_key(challenge, member.pk),
            )
            ChallengeCompletion.objects.filter(pk=completion.pk).update(entry=completion.entry)
    return completion


def _met(member: Member, challenge: Challenge) -> bool:
    return progress(challenge.rule, facts_for(member, challenge)).met


def evaluate_member(*, member_id: int, at: datetime | None = None) -> list[ChallengeCompletion]:
    """Complete every evaluable challenge the member has met; returns the new completions."""
    at = at or timezone.now()
    member = Member.objects.get(pk=member_id)
    if member.ban_in_force(at):
        return []  # a banned member earns nothing; the first award after the ban evaluates them again
    done = ChallengeCompletion.objects.filter(member_id=member_id).values_list("challenge_id", flat=True)
    candidates = evaluable(at=at).exclude(pk__in=done).select_related("activity")
    return [c for ch in candidates if _met(member, ch) and (c := complete(member=member, challenge=ch, at=at))]


def evaluate_challenge(*, challenge_id: int, at: datetime | None = None) -> int:
    """Complete the challenge for every member who has met it (the admin's re-evaluate action): only
    members with an entry inside the window can have, so we read those. Returns the new completions."""
    at = at or timezone.now()
    challenge = Challenge.objects.select_related("activity").filter(pk=challenge_id, active=True).first()
    if challenge is None:
        return 0
    entries = LedgerEntry.objects.filter(created__gte=challenge.starts_at, created__lt=challenge.ends_at)
    if challenge.activity_id is not None:
        entries = entries.filter(activity_id=challenge.activity_id)
    member_ids = (entries.exclude(reason__startswith=REASON_PREFIX)
                  .exclude(member__challenge_completions__challenge=challenge)
                  .values_list("member_id", flat=True).distinct().order_by())
    completed = 0
    for member in Member.objects.filter(pk__in=list(member_ids)).order_by("pk").iterator():
        if not member.ban_in_force(at) and _met(member, challenge):
            completed += complete(member=member, challenge=challenge, at=at) is not None
    return completed


# --- What the member sees ----------------------------------------------------------------------------


def _listed(*, state: str, at: datetime, completed_ids) -> QuerySet[Challenge]:
    if state == "open":
        return open_challenges(at=at)
    if state == "completed":
        return Challenge.objects.filter(pk__in=completed_ids)
    shown = Challenge.objects.filter(active=True, starts_at__lte=at) | Challenge.objects.filter(pk__in=completed_ids)
    return shown.distinct()


def _status(member: Member, challenge: Challenge, completion, at: datetime) -> Status:
    facts = facts_for(member, challenge)
    overall = progress(challenge.rule, facts)
    goals = [Goal(leaf, progress(leaf, facts)) for leaf in leaves(challenge.rule)]
    if completion is None and overall.met and challenge.ends_at > at - LATE_GRACE and not member.ban_in_force(at):
        # Met but not yet completed (the after-commit evaluation has not run yet): complete it now,
        # so the list never shows a finished challenge without its reward.
        completion = complete(member=member, challenge=challenge, at=at) or ChallengeCompletion.objects.get(
            member_id=member.pk, challenge=challenge)
    if completion is not None and not overall.met:
        overall = Progress(overall.target, overall.target)  # met once, e.g. before an admin raised the target
    return Status(challenge, overall, completion, goals, at)


def statuses(*, member: Member, state: str = "open", at: datetime | None = None) -> list[Status]:
    """The member's challenges in ``state`` (open: running now; completed: theirs; all: every started
    challenge and theirs, newest first up to ALL_LIMIT), with progress."""
    at = at or timezone.now()
    completions = {c.challenge_id: c for c in ChallengeCompletion.objects.filter(member=member)}
    listed = _listed(state=state, at=at, completed_ids=list(completions)).select_related("activity")
    if state == "open":
        ordered = listed.order_by("position", "ends_at", "id")
    else:
        ordered = listed.order_by("-ends_at", "position", "id")[:ALL_LIMIT]
    return [_status(member, ch, completions.get(ch.pk), at) for ch in ordered]


# --- After-commit evaluation (ledger_entry_posted) ---------------------------------------------------


@dataclass(frozen=True)
class _Live:
    starts_at: datetime
    ends_at: datetime
    activity_id: int | None
    triggers: Triggers

    def moved_by(self, entry: LedgerEntry) -> bool:
        if not self.starts_at <= entry.created < self.ends_at:
            return False
        if self.activity_id is not None and entry.activity_id != self.activity_id:
            return False
        return entry_moves(entry, self.triggers)


_live_cache: tuple[float, list[_Live]] | None = None
LIVE_TTL = 30.0  # seconds; a new challenge is picked up this late by other processes (reads complete it anyway)


def live() -> list[_Live]:
    """Active challenges that have not ended, with what moves their rules (cached per process)."""
    global _live_cache
    now = time.monotonic()
    if _live_cache is None or now - _live_cache[0] > LIVE_TTL:
        rows = Challenge.objects.filter(active=True, ends_at__gt=timezone.now()).values_list(
            "starts_at", "ends_at", "activity_id", "rule")
        _live_cache = (now, [_Live(s, e, a, triggers_of([rule])) for s, e, a, rule in rows])
    return _live_cache[1]


def clear_live() -> None:
    global _live_cache
    _live_cache = None


def challenges_changed(sender, **kwargs) -> None:
    """post_save/post_delete of a Challenge: this process sees the change at once, others within LIVE_TTL."""
    clear_live()


def moves_challenges(entry: LedgerEntry) -> bool:
    if entry.reason.startswith(REASON_PREFIX):
        return False
    return any(challenge.moved_by(entry) for challenge in live())


def on_entry_posted(sender, entry: LedgerEntry, member: Member, **kwargs) -> None:
    """Receiver of ``ledger_entry_posted``: evaluate the member's challenges after the entry commits."""
    if moves_challenges(entry):
        from engagement.tasks import evaluate_challenges

        outbox.enqueue(evaluate_challenges, member_id=member.pk)
