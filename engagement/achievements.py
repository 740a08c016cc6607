"""Achievements: evaluating a member's rules, unlocking exactly once, and what the member page shows."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config import outbox
from engagement import services
from engagement.achievement_rules import MemberFacts, Progress, progress
from engagement.models import Achievement, AchievementCategory, LedgerEntry, Member, MemberAchievement

log = logging.getLogger(__name__)
REASON_PREFIX = "achievement:"
# The contract's counters, by the reason that counts them.
COUNTERS = {
    "comments": "comment_create",
    "votes": "poll_vote",
    "newsletter": "newsletter_subscribe",
    "checkins": "checkin",
    "reactions": "comment_reacted",
}


@dataclass
class Status:
    achievement: Achievement
    progress: Progress
    unlocked: MemberAchievement | None


def reason_for(achievement: Achievement) -> str:
    return f"{REASON_PREFIX}{achievement.code}"


@dataclass(frozen=True)
class Triggers:
    """Which entries can move some active achievement's rule (so most awards enqueue nothing)."""

    reasons: frozenset[str]
    on_points: bool
    on_xp: bool
    on_activity: bool
    on_streak: bool


def _collect(rule: dict, found: dict) -> None:
    for child in rule.get("all", []) + rule.get("any", []):
        _collect(child, found)
    kind = rule.get("type")
    if kind in ("reason_count", "checkins"):
        found["reasons"].add(rule.get("reason", "checkin"))
    found["on_points"] |= kind in ("points", "streak")
    found["on_xp"] |= kind in ("level", "xp", "streak")
    found["on_activity"] |= kind == "distinct_activities"
    found["on_streak"] |= kind == "streak_days"


_triggers_cache: tuple[float, Triggers] | None = None
TRIGGERS_TTL = 30.0  # seconds; an admin's new rule is picked up this late (evaluate_achievements covers the past)


def triggers() -> Triggers:
    global _triggers_cache
    now = time.monotonic()
    if _triggers_cache is None or now - _triggers_cache[0] > TRIGGERS_TTL:
        _triggers_cache = (now, triggers_of(Achievement.objects.filter(active=True).values_list("rule", flat=True)))
    return _triggers_cache[1]


def triggers_of(rules) -> Triggers:
    """What entries can move any of ``rules`` (challenges ask this of their own rules too)."""
    found = {"reasons": set(), "on_points": False, "on_xp": False, "on_activity": False, "on_streak": False}
    for rule in rules:
        if isinstance(rule, dict):
            _collect(rule, found)
    return Triggers(frozenset(found.pop("reasons")), **found)


def entry_moves(entry: LedgerEntry, t: Triggers) -> bool:
    # streak_days rules read the best streak, which only an entry that lengthened it can move (the
    # award service sets ``streak_best_grew``), so most entries of a day enqueue nothing for them.
    return (entry.reason in t.reasons or (t.on_points and entry.points > 0) or (t.on_xp and entry.xp > 0)
            or (t.on_activity and entry.activity_id is not None)
            or (t.on_streak and getattr(entry, "streak_best_grew", False)))


def clear_triggers() -> None:
    global _triggers_cache
    _triggers_cache = None


def rules_changed(sender, **kwargs) -> None:
    """post_save/post_delete of an Achievement: this process sees the change at once, others within
    TRIGGERS_TTL. (Bulk ``update()`` sends no signal and waits for the TTL.)"""
    clear_triggers()


def moves_achievements(entry: LedgerEntry) -> bool:
    """Whether a new entry could meet some active achievement's rule. An unlock's own entry never
    triggers: the evaluation that wrote it re-checks the member itself (level- or XP-based rules)."""
    if entry.reason.startswith(REASON_PREFIX):
        return False
    return entry_moves(entry, triggers())


def _unlock(*, member: Member, achievement: Achievement, at: datetime) -> MemberAchievement | None:
    """Unlock and pay once. The member lock serialises evaluations of one member; the unique
    constraint and the award's idempotency key would each stop a second payment on their own."""
    with transaction.atomic():
        services.lock_member(member.pk)
        if MemberAchievement.objects.filter(member=member, achievement=achievement).exists():
            return None
        unlock = MemberAchievement.objects.create(member=member, achievement=achievement, unlocked_at=at)
        if achievement.points or achievement.xp:
            unlock.entry = services.award(
                member=member, reason=reason_for(achievement), points=achievement.points, xp=achievement.xp,
                meta={"achievement": achievement.code}, at=at,
                idempotency_key=f"{REASON_PREFIX}{achievement.code}:{member.pk}",
            )
            MemberAchievement.objects.filter(pk=unlock.pk).update(entry=unlock.entry)
        from engagement.tasks import send_achievement_email

        outbox.enqueue(send_achievement_email, member_achievement_id=unlock.pk)
    return unlock


def pending(*, member: Member) -> list[tuple[Achievement, Progress]]:
    """Active achievements the member has met but not unlocked yet."""
    facts = MemberFacts(member)
    unlocked = set(MemberAchievement.objects.filter(member=member).values_list("achievement_id", flat=True))
    candidates = Achievement.objects.filter(active=True).exclude(pk__in=unlocked)
    return [(a, p) for a in candidates if (p := progress(a.rule, facts)).met]


def evaluate_member(*, member_id: int, at: datetime | None = None) -> list[MemberAchievement]:
    """Unlock every achievement the member has met; returns the new unlocks.

    An unlock pays XP, which can meet a level- or XP-based rule, so we evaluate again until nothing
    new unlocks (at most once per achievement).
    """
    at = at or timezone.now()
    unlocked: list[MemberAchievement] = []
    for _ in range(Achievement.objects.filter(active=True).count() + 1):
        member = Member.objects.get(pk=member_id)
        if member.ban_in_force(at):
            # A banned member earns nothing, unlocks included; the first award after the ban evaluates
            # them again. (A ban that starts mid-evaluation makes award() refuse; the unlock rolls back.)
            break
        new = [u for a, _ in pending(member=member) if (u := _unlock(member=member, achievement=a, at=at))]
        if not new:
            break
        unlocked += new
    return unlocked


def statuses(*, member: Member) -> list[Status]:
    """Every active achievement (and any unlocked one made inactive since) with the member's progress."""
    facts = MemberFacts(member)
    unlocks = {u.achievement_id: u for u in MemberAchievement.objects.filter(member=member)}
    shown = Achievement.objects.filter(active=True) | Achievement.objects.filter(pk__in=unlocks)
    result = []
    for achievement in shown.distinct().select_related("category").order_by("position", "id"):
        current = progress(achievement.rule, facts)
        unlock = unlocks.get(achievement.pk)
        if unlock is not None and not current.met:
            current = Progress(current.target, current.target)  # met once, e.g. before an admin raised it
        result.append(Status(achievement, current, unlock))
    return result


@dataclass
class Group:
    category: AchievementCategory | None
    statuses: list[Status]


def grouped(items: list[Status]) -> list[Group]:
    """``items`` grouped by category (categories in their order, the uncategorised last)."""
    groups: dict[int | None, Group] = {}
    for status in items:
        category = status.achievement.category
        key = category.pk if category else None
        groups.setdefault(key, Group(category, [])).statuses.append(status)
    return sorted(groups.values(), key=lambda g: (1, 0, 0) if g.category is None
                  else (0, g.category.position, g.category.pk))


def counters(*, member: Member) -> dict[str, int]:
    counts = MemberFacts(member).reason_counts
    result = {name: counts.get(reason, 0) for name, reason in COUNTERS.items()}
    result["achievements"] = MemberAchievement.objects.filter(member=member).count()
    return result


def unlocked_count(*, member: Member) -> int:
    return MemberAchievement.objects.filter(member=member).count()


def on_entry_posted(sender, entry: LedgerEntry, member: Member, **kwargs) -> None:
    """Receiver of ``ledger_entry_posted``: evaluate the member after the entry commits (ids only)."""
    if moves_achievements(entry):
        from engagement.tasks import evaluate_achievements

        outbox.enqueue(evaluate_achievements, member_id=member.pk)
