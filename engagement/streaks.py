"""Streaks: a member's run of consecutive active days, kept up to date by the award path.

A day is a calendar day in the project time zone (the same days as earning caps). A day is *active*
when the member earned something with a counted reason that day: an award (never a spend, a refund, an
admin adjustment or an achievement unlock's own payment) whose reason is in ENGAGEMENT_STREAK_REASONS,
or any earning reason when that setting is empty.

The award service calls ``plan`` while it holds the member lock (after the caps, before writing) and
``apply`` right after the entry and balances are written, in the same transaction. Most awards land on
a day already counted: they cost one primary-key read and write nothing. Because the lock serialises a
member's awards, two awards racing into the same new day bump the streak once; ``apply`` moves the
numbers with F() so that, without the lock, the race shows as a double bump (the negative control in
tests/engagement/test_streaks.py).

Freezes: an admin grants a member N freezes. At the member's next active day after exactly one missed
day, one freeze is consumed and bridges that day: the streak carries on (the bridged day itself does
not add to the count). A gap of two or more days starts a new streak and keeps the freezes.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from config import sql
from config.errors import DomainError
from engagement import ledger_sql
from engagement.errors import IdempotencyConflict
from engagement.leaderboards.periods import local_day
from engagement.models import LedgerEntry, Member, Streak, StreakFreezeGrant, StreakFreezeUse

# Never activity, whatever the setting says: money going back and forth, and admins' corrections.
NEVER_COUNTED = frozenset({"spend", "redeem", "refund", "redeem_refund", "admin_adjust"})
UNLOCK_PREFIX = "achievement:"  # an unlock is paid because of activity; it is not activity itself
MAX_FREEZE_GRANT = 100


class StreakError(DomainError):
    """A streak change was refused (code names why)."""


def counted_reasons() -> frozenset[str]:
    return frozenset(getattr(settings, "ENGAGEMENT_STREAK_REASONS", None) or ())


def counts(*, reason: str, points: int, xp: int) -> bool:
    """Whether an entry with these values makes its day active (the rebuild uses the same test)."""
    if points <= 0 and xp <= 0:
        return False
    if reason in NEVER_COUNTED or reason.startswith(UNLOCK_PREFIX):
        return False
    chosen = counted_reasons()
    return not chosen or reason in chosen


# --- The state machine (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    last_active_day: date | None = None
    current: int = 0
    best: int = 0
    freezes: int = 0


def missed_day(state: State, day: date) -> date | None:
    """The single day missed between the last active day and ``day``, if exactly one was."""
    last = state.last_active_day
    if last is not None and state.current > 0 and day - last == timedelta(days=2):
        return last + timedelta(days=1)
    return None


def advance(state: State, day: date, *, bridge: bool) -> State:
    """The state after activity on ``day`` (later than the last active day). ``bridge``: a freeze
    covers the one missed day before ``day``."""
    last = state.last_active_day
    if last is not None and (day - last == timedelta(days=1) or (bridge and missed_day(state, day))):
        current = state.current + 1
    else:
        current = 1
    return State(day, current, max(state.best, current), state.freezes - (1 if bridge else 0))


# --- The award path ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What one award does to its member's streak, decided under the member lock."""

    member_id: int
    day: date
    before: State | None  # None: the member has no streak row yet
    after: State
    bridged: date | None

    @property
    def best_grew(self) -> bool:
        return self.after.best > (self.before.best if self.before else 0)


STATE_FIELDS = ledger_sql.STREAK_FIELDS  # ("last_active_day", "current", "best", "freezes")


@cache
def _state_sql() -> str:
    return (f"SELECT {sql.columns(Streak, names=STATE_FIELDS)} FROM {sql.table(Streak)} "
            f"WHERE {sql.column(Streak, 'member')} = %s")


def read_state(member_id: int) -> State | None:
    rows = sql.fetch(_state_sql(), [member_id])
    return State(*sql.convert(Streak, rows[0], STATE_FIELDS)) if rows else None


UNREAD = object()  # plan(row=...) default: read the streak row here


def plan(*, member_id: int, reason: str, points: int, xp: int, at: datetime, row=UNREAD) -> Plan | None:
    """The streak change an award makes, or None (not a counted entry, or its day is counted already).
    The caller holds the member lock. An award dated before the last active day (a backfill) changes
    nothing here; ``rebuild_member`` places it. ``row``: the member's streak values (``STATE_FIELDS``,
    converted; None when it has no row) if the caller has already read them under the lock
    (``ledger_sql.rule_campaign_and_streak``); by default they are read here."""
    if not counts(reason=reason, points=points, xp=xp):
        return None
    day = local_day(at)
    if row is UNREAD:
        before = read_state(member_id)
    else:
        before = State(*row) if row is not None else None
    if before is not None and before.last_active_day is not None and day <= before.last_active_day:
        return None
    state = before or State()
    bridged = missed_day(state, day) if state.freezes > 0 else None
    return Plan(member_id, day, before, advance(state, day, bridge=bridged is not None), bridged)


def apply(p: Plan, *, at: datetime) -> None:
    """Write ``p`` (in the award's transaction, under the member lock)."""
    if p.before is None:
        # Under the member lock nobody else can insert this row. Without it (the ledger's negative-control
        # tests remove the lock to show other races) a conflict must not fail the award: skip it.
        Streak.objects.bulk_create([Streak(member_id=p.member_id, last_active_day=p.day, current=1, best=1,
                                           updated=at)], ignore_conflicts=True)
        return
    if p.after.current == 1:
        current = 1
    else:
        current = F("current") + 1
    changes = {"last_active_day": p.day, "current": current, "best": Greatest(F("best"), current), "updated": at}
    if p.bridged is not None:
        changes.update(freezes=F("freezes") - 1, freezes_used=F("freezes_used") + 1)
        StreakFreezeUse.objects.create(member_id=p.member_id, day=p.bridged, created=at)
    Streak.objects.filter(pk=p.member_id).update(**changes)


# --- Reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    current: int
    best: int
    freezes: int
    freezes_used: int
    active_today: bool
    last_active_day: date | None


def status(*, member: Member, at: datetime | None = None) -> Status:
    """The member's streak as of ``at``. The run is alive while the last active day is today or
    yesterday, or the day before yesterday when a freeze can still bridge the missed day; else 0."""
    row = Streak.objects.filter(member_id=member.pk).first()
    if row is None:
        return Status(0, 0, 0, 0, False, None)
    today = local_day(at or timezone.now())
    last = row.last_active_day
    gap = (today - last).days if last is not None else None
    alive = gap is not None and (gap <= 1 or (gap == 2 and row.freezes > 0))
    return Status(row.current if alive else 0, row.best, row.freezes, row.freezes_used, gap == 0, last)


def best_streak(member_id: int) -> int:
    """The maintained best streak (what ``streak_days`` achievement rules read)."""
    return Streak.objects.filter(member_id=member_id).values_list("best", flat=True).first() or 0


# --- Freezes ----------------------------------------------------------------------------------------


@transaction.atomic
def grant_freezes(*, member: Member, count: int, actor, at: datetime | None = None,
                  idempotency_key: str | None = None) -> tuple[StreakFreezeGrant, bool]:
    """Give the member ``count`` (1–MAX_FREEZE_GRANT) more streak freezes, recorded as a
    ``StreakFreezeGrant`` and logged on the member's admin history when an admin does it.

    Returns ``(grant, created)``, as ``get_or_create`` does. With an ``idempotency_key``, a retry of the
    same grant (same member, same count) changes nothing and returns the first grant with ``created``
    False; the key with another member or count is an ``idempotency_conflict``. The key is looked up
    under the member lock, so racing retries for one member grant once; should two requests with one key
    still both miss it (another member, or no lock), the key's unique index refuses the second INSERT and
    that request answers from the first grant."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_FREEZE_GRANT:
        raise StreakError(f"count must be a whole number from 1 to {MAX_FREEZE_GRANT}.", code="invalid_count")
    at = at or timezone.now()
    ledger_sql.lock_member(member.pk)  # the award path reads freezes under this lock
    if idempotency_key is not None and (earlier := _earlier_grant(idempotency_key, member, count)):
        return earlier, False
    try:
        with transaction.atomic():  # a savepoint: the same key racing in for another member lands here
            grant = StreakFreezeGrant.objects.create(member_id=member.pk, count=count, idempotency_key=idempotency_key,
                                                     actor_id=getattr(actor, "pk", None), created=at)
    except IntegrityError:
        if idempotency_key is None or not (earlier := _earlier_grant(idempotency_key, member, count)):
            raise
        return earlier, False
    Streak.objects.get_or_create(member_id=member.pk, defaults={"updated": at})
    Streak.objects.filter(pk=member.pk).update(freezes=F("freezes") + count, updated=at)
    if getattr(actor, "pk", None):
        LogEntry.objects.log_actions(user_id=actor.pk, queryset=[member], action_flag=CHANGE,
                                     change_message=f"Granted {count} streak freeze(s).", single_object=True)
    return grant, True


def _earlier_grant(key: str, member: Member, count: int) -> StreakFreezeGrant | None:
    """The grant already made with ``key``, if any; the key used for another grant is a conflict."""
    earlier = StreakFreezeGrant.objects.filter(idempotency_key=key).first()
    if earlier is not None and (earlier.member_id, earlier.count) != (member.pk, count):
        raise IdempotencyConflict("This Idempotency-Key was used for another grant.")
    return earlier


# --- Repair -----------------------------------------------------------------------------------------


def counted_entries_q() -> Q:
    """``counts()`` as a filter on ledger entries."""
    q = (Q(points__gt=0) | Q(xp__gt=0)) & ~Q(reason__in=NEVER_COUNTED) & ~Q(reason__startswith=UNLOCK_PREFIX)
    if chosen := counted_reasons():
        q &= Q(reason__in=chosen)
    return q


def replay(days: list[date], bridged: set[date]) -> tuple[State, int]:
    """The streak that sorted distinct active ``days`` make, bridging the recorded ``bridged`` days;
    and how many of those it bridged."""
    state, used = State(), 0
    for day in days:
        missed = missed_day(state, day)
        bridge = missed is not None and missed in bridged
        state, used = advance(state, day, bridge=bridge), used + bridge
    return state, used


@transaction.atomic
def rebuild_member(member_id: int) -> bool:
    """Recompute one member's streak from the ledger (freezes granted are kept). Returns whether the
    stored row changed."""
    ledger_sql.lock_member(member_id)
    stamps = (LedgerEntry.objects.filter(counted_entries_q(), member_id=member_id)
              .values_list("created", flat=True))
    days = sorted({local_day(stamp) for stamp in stamps})
    bridged = set(StreakFreezeUse.objects.filter(member_id=member_id).values_list("day", flat=True))
    rebuilt, used = replay(days, bridged)
    row = Streak.objects.filter(member_id=member_id).first()
    if row is None and not days:
        return False
    wanted = {"last_active_day": rebuilt.last_active_day, "current": rebuilt.current, "best": rebuilt.best,
              "freezes_used": used}
    if row is not None and all(getattr(row, name) == value for name, value in wanted.items()):
        return False
    Streak.objects.update_or_create(member_id=member_id, defaults={**wanted, "updated": timezone.now()})
    return True
