"""Declarative achievement rules: validation and progress.

A rule is JSON data that admins edit. Every leaf names a ``type`` and a target; two combinators nest:

    {"type": "reason_count", "reason": "comment_create", "min": 10}
    {"type": "checkins", "min": 3}               # entries with reason "checkin"
    {"type": "level", "min": 5}
    {"type": "points", "min": 1000}             # lifetime points earned (spending does not undo it)
    {"type": "xp", "min": 500}
    {"type": "distinct_activities", "min": 3}
    {"type": "streak_days", "min": 7}           # best streak of active days >= 7 (engagement.streaks)
    {"type": "streak", "days": 7}               # older: earned on N consecutive days, read from the ledger
    {"all": [rule, ...]}  /  {"any": [rule, ...]}

Every rule type only ever grows for a member (counts, XP, lifetime earnings, longest streak), so an
achievement that is met stays met: evaluation can decide outside any lock and unlock once.

Challenges use the same rules over a time window: ``MemberFacts(member, window=(start, end))`` counts
only ledger entries created in [start, end) (optionally of one activity), and ``validate_rule(rule,
windowed=True)`` refuses the leaves that a window cannot bound (``level`` and ``streak_days``: a level
and a best streak are states, not counts of entries).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone

MAX_DEPTH = 4
MAX_TARGET = 10**12
# Points given back by a refund were earned once already; they do not count twice as "lifetime points".
NOT_EARNED_REASONS = ("redeem_refund", "refund")
LEAF_TYPES = {
    "reason_count": "min",
    "checkins": "min",
    "level": "min",
    "points": "min",
    "xp": "min",
    "distinct_activities": "min",
    "streak_days": "min",
    "streak": "days",
}
# Leaves that count ledger entries, so a window bounds them. New leaf types are refused in challenges
# until someone decides what they mean inside a window.
WINDOWED_LEAF_TYPES = frozenset({"reason_count", "checkins", "points", "xp", "distinct_activities", "streak"})
# Entries that never count inside a window: a challenge's own reward must not complete another challenge.
WINDOW_EXCLUDED_PREFIX = "challenge:"


@dataclass(frozen=True)
class Progress:
    current: int
    target: int

    @property
    def met(self) -> bool:
        return self.current >= self.target

    def as_dict(self) -> dict:
        return {"current": min(self.current, self.target), "target": self.target}


# --- Validation ---------------------------------------------------------------------------------------


def _positive_int(value, *, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_TARGET:
        raise ValidationError(f"{where} must be a whole number from 1 to {MAX_TARGET}.", code="invalid_rule")
    return value


def _validate_leaf(rule: dict, where: str, windowed: bool) -> None:
    kind = rule.get("type")
    if kind not in LEAF_TYPES:
        choices = ", ".join(sorted(WINDOWED_LEAF_TYPES if windowed else LEAF_TYPES))
        raise ValidationError(f"{where}: unknown type {kind!r} (use one of {choices}, or all/any).",
                              code="invalid_rule")
    if windowed and kind not in WINDOWED_LEAF_TYPES:
        raise ValidationError(f"{where}: {kind!r} cannot be counted inside a challenge's time window "
                              f"(use xp or points earned in the window instead).", code="invalid_rule")
    target_key = LEAF_TYPES[kind]
    allowed = {"type", target_key} | ({"reason"} if kind == "reason_count" else set())
    if extra := set(rule) - allowed:
        raise ValidationError(f"{where}: unexpected key(s) {', '.join(sorted(extra))}.", code="invalid_rule")
    _positive_int(rule.get(target_key), where=f"{where}.{target_key}")
    if kind == "reason_count":
        reason = rule.get("reason")
        if not isinstance(reason, str) or not 1 <= len(reason) <= 64:
            raise ValidationError(f"{where}.reason must be a reason slug such as 'comment_create'.",
                                  code="invalid_rule")


def validate_rule(rule, *, where: str = "rule", depth: int = 0, windowed: bool = False) -> None:
    """Raise django ValidationError (with a message saying where) unless ``rule`` is well formed.
    ``windowed``: the rule is a challenge's, counted over a time window (WINDOWED_LEAF_TYPES only)."""
    if depth > MAX_DEPTH:
        raise ValidationError(f"{where}: rules nest at most {MAX_DEPTH} levels deep.", code="invalid_rule")
    if not isinstance(rule, dict):
        raise ValidationError(f"{where} must be an object.", code="invalid_rule")
    combinators = [k for k in ("all", "any") if k in rule]
    if not combinators:
        _validate_leaf(rule, where, windowed)
        return
    if len(rule) != 1:
        raise ValidationError(f"{where}: 'all'/'any' must be the only key.", code="invalid_rule")
    children = rule[combinators[0]]
    if not isinstance(children, list) or not children:
        raise ValidationError(f"{where}.{combinators[0]} must be a non-empty list.", code="invalid_rule")
    for i, child in enumerate(children):
        validate_rule(child, where=f"{where}.{combinators[0]}[{i}]", depth=depth + 1, windowed=windowed)


# --- Facts about one member, loaded lazily (each at most one query) ---------------------------------


class MemberFacts:
    """What the rules read about one member. Each property costs at most one query, on first use.

    With ``window`` (an aware [start, end) pair) only entries created inside it count, challenge
    rewards excluded, and ``activity_id`` narrows them to one activity."""

    def __init__(self, member, *, window: tuple[datetime, datetime] | None = None, activity_id: int | None = None):
        self.member = member
        self.window = window
        self.activity_id = activity_id

    @cached_property
    def _entries(self):
        from engagement.models import LedgerEntry

        entries = LedgerEntry.objects.filter(member_id=self.member.pk)
        if self.window is not None:
            start, end = self.window
            entries = entries.filter(created__gte=start, created__lt=end).exclude(
                reason__startswith=WINDOW_EXCLUDED_PREFIX)
        if self.activity_id is not None:
            entries = entries.filter(activity_id=self.activity_id)
        return entries

    @cached_property
    def xp(self) -> int:
        if self.window is None and self.activity_id is None:
            return self.member.xp  # the cached balance equals the sum of entries (verify_ledger)
        return self._entries.filter(xp__gt=0).aggregate(s=Sum("xp"))["s"] or 0

    @cached_property
    def reason_counts(self) -> dict[str, int]:
        rows = self._entries.values("reason").annotate(n=Count("id")).order_by()
        return {row["reason"]: row["n"] for row in rows}

    @cached_property
    def lifetime_points(self) -> int:
        earned = self._entries.filter(points__gt=0).exclude(reason__in=NOT_EARNED_REASONS)
        return earned.aggregate(s=Sum("points"))["s"] or 0

    @cached_property
    def distinct_activities(self) -> int:
        return self._entries.filter(activity__isnull=False).values("activity_id").distinct().count()

    @cached_property
    def best_streak(self) -> int:
        # The maintained row (one primary-key read), not a scan of the ledger.
        from engagement.streaks import best_streak

        return best_streak(self.member.pk)

    @cached_property
    def longest_streak(self) -> int:
        # Days with something earned (points or XP), in the project time zone. A member has at most a
        # few thousand entries, so reading their timestamps is cheaper than a per-database date query.
        stamps = self._entries.filter(Q(points__gt=0) | Q(xp__gt=0)).values_list("created", flat=True)
        tz = timezone.get_current_timezone()
        return longest_run(sorted({timezone.localtime(s, tz).date() for s in stamps}))


def longest_run(days: list[date]) -> int:
    """Length of the longest run of consecutive dates in a sorted list of distinct dates."""
    best = run = 0
    previous = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


# --- Progress ------------------------------------------------------------------------------------------


def _leaf_current(rule: dict, facts: MemberFacts) -> int:
    kind = rule["type"]
    if kind == "reason_count":
        return facts.reason_counts.get(rule["reason"], 0)
    if kind == "checkins":
        return facts.reason_counts.get("checkin", 0)
    if kind == "level":
        return facts.member.level
    if kind == "xp":
        return facts.xp
    if kind == "points":
        return facts.lifetime_points
    if kind == "distinct_activities":
        return facts.distinct_activities
    if kind == "streak_days":
        return facts.best_streak
    return facts.longest_streak


def _ratio(progress: Progress) -> float:
    return min(progress.current, progress.target) / progress.target


def progress(rule: dict, facts: MemberFacts) -> Progress:
    """How far a member is towards ``rule``.

    A leaf reports its own count against its target. ``all`` reports how many parts are met out of
    how many (a single part reports that part's own progress); ``any`` reports its part nearest to done.
    """
    if "all" in rule:
        parts = [progress(child, facts) for child in rule["all"]]
        if len(parts) == 1:
            return parts[0]
        return Progress(sum(p.met for p in parts), len(parts))
    if "any" in rule:
        parts = [progress(child, facts) for child in rule["any"]]
        return max(parts, key=lambda p: (p.met, _ratio(p)))
    return Progress(_leaf_current(rule, facts), rule[LEAF_TYPES[rule["type"]]])


def leaves(rule: dict) -> list[dict]:
    """The rule's leaves in reading order (for showing each goal of a challenge on its own)."""
    if "all" in rule or "any" in rule:
        return [leaf for child in rule.get("all", []) + rule.get("any", []) for leaf in leaves(child)]
    return [rule]
