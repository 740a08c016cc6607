"""The only code that writes ledger entries or member balances.

Every public service is atomic, keyword-only and idempotent by key: a replay of the same key returns
the first entry (``entry.replayed`` is True) and a replay with a different request is a 409.
"""

import hashlib
import json
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagement import campaigns, ledger_sql, levels, streaks
from engagement.errors import (
    CapReached,
    DomainError,
    IdempotencyConflict,
    InsufficientPoints,
    LedgerError,
    MemberBanned,
    SelfAwardForbidden,
    UnknownReason,
)
from engagement.models import Activity, EarningRule, LedgerEntry, Member
from engagement.signals import ledger_entry_posted

SPEND_REASON = "spend"
REFUND_REASON = "refund"
ADJUST_REASON = "admin_adjust"
# Balances are bigint, but a correction of more than a billion points is a typo, not a correction; the
# bound also keeps any number of adjustments far away from bigint's range (2**63 was a 500).
MAX_ADJUST = 1_000_000_000


def _request_hash(**parts) -> str:
    raw = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def lock_member(member_id: int) -> Member:
    """Lock the member row for the rest of the transaction. Every balance decision is made under it,
    which is what makes caps, spends and same-member key replays exact under concurrency."""
    return ledger_sql.lock_member(member_id)


def balance_guard(points: int) -> bool:
    """Whether the balance UPDATE must be conditional: a removal then matches no row rather than overdraw."""
    return points < 0


def refuse_if_banned(member: Member, *, at: datetime | None = None) -> None:
    """MemberBanned (403 ``member_banned``, with the end date) if a ban is in force at ``at``. Judged on
    the instance given: callers that decide under the member lock pass the locked row."""
    if member.ban_in_force(at or timezone.now()):
        raise MemberBanned(until=member.banned_until)


def _replayed(key: str | None, request_hash: str) -> LedgerEntry | None:
    if not key or (found := ledger_sql.entry_for_key(key)) is None:
        return None
    entry_id, first_hash = found
    if first_hash != request_hash:
        raise IdempotencyConflict("This idempotency key was already used for a different request.")
    entry = LedgerEntry.objects.get(pk=entry_id)
    entry.replayed = True
    return entry


def day_bounds(at: datetime) -> tuple[datetime, datetime]:
    """The calendar day containing ``at`` in the project time zone, as an aware [start, end) pair."""
    tz = timezone.get_current_timezone()
    day = timezone.localtime(at, tz).date()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def _check_caps(*, member: Member, rule: EarningRule, at: datetime) -> None:
    lifetime, daily = rule.lifetime_cap, rule.daily_cap
    if lifetime is None and daily is None:
        return
    total, today = ledger_sql.count_awards(member_id=member.pk, reason=rule.reason, day=day_bounds(at),
                                           lifetime=lifetime is not None)
    if lifetime is not None and total >= lifetime:
        raise CapReached(f"'{rule.reason}' can be earned {lifetime} time(s) in total.", code="lifetime_cap_reached")
    if daily is not None and today >= daily:
        raise CapReached(f"'{rule.reason}' can be earned {daily} time(s) a day.", code="daily_cap_reached")


class _KeyTaken(Exception):
    """The entry's idempotency key was written by another transaction after we looked it up."""


def _write(*, member: Member, points: int, xp: int, fields: dict, streak: streaks.Plan | None = None) -> LedgerEntry:
    """Insert the entry, then move the cached balances (the SQL of F() increments) and the streak,
    under the member lock (entry and balances in one round trip on PostgreSQL). The INSERT comes first
    so that an idempotency-key race with another member's request (the unique index) writes nothing at
    all; a refused balance UPDATE raises, and the service's atomic block rolls the entry back with it."""
    entry = LedgerEntry(member=member, points=points, xp=xp, **fields)
    level = max(member.level, levels.level_for_xp(member.xp + xp))
    inserted, moved = ledger_sql.write_entry(entry, level=level, guarded=balance_guard(points))
    if not inserted:
        raise _KeyTaken
    if not moved:
        raise InsufficientPoints("Not enough points.", balance=member.points)
    member.points += points
    member.xp += xp
    member.level = level
    if streak is not None:
        streaks.apply(streak, at=fields["created"])
    # Read by the achievements receiver: only a longer best streak can meet a streak_days rule.
    entry.streak_best_grew = streak is not None and streak.best_grew
    entry.replayed = False
    ledger_entry_posted.send(sender=LedgerEntry, entry=entry, member=member)
    return entry


def _post(
    *,
    member: Member,
    points: int,
    xp: int,
    reason: str,
    operation: str,
    activity: Activity | None,
    actor,
    meta: dict | None,
    idempotency_key: str | None,
    at: datetime | None,
    rule: EarningRule | None = None,
    requested: tuple[int, int] | None = None,
    locked: bool = False,
    holder: Member | None = None,
    streak_row=streaks.UNREAD,
) -> LedgerEntry:
    """``holder``: the member's row as the caller locked it in this transaction (``member`` is the
    caller's instance, which gets the new balances as usual); ``streak_row``: the streak as read after
    that lock (``streaks.plan``'s ``row``)."""
    at = at or timezone.now()
    if activity is not None and activity.pk is None:
        # What Model.save() would refuse: the hand-written INSERT would otherwise store no activity.
        raise ValueError("award/spend/refund/adjust need a saved activity.")
    # The hash is of what was asked (``requested``, before any campaign boost), so that a replay
    # still matches after the campaign has ended.
    asked_points, asked_xp = requested or (points, xp)
    request_hash = _request_hash(
        op=operation, member=member.pk, points=asked_points, xp=asked_xp, reason=reason,
        activity=activity and activity.pk,
    )
    if holder is None:
        holder = member if locked else lock_member(member.pk)
    # No key lookup up front: the key's unique index answers replays at the INSERT (``_KeyTaken``), and
    # a refusal below looks the key up before it is raised, so a replay is answered even when its first
    # request has since used up a cap or the balance. Most writes are first requests: they save a round
    # trip, and a replay costs the same statements as before plus its refused INSERT.
    try:
        _judge(holder=holder, operation=operation, points=points, rule=rule, at=at)
    except DomainError:
        if (entry := _replayed(idempotency_key, request_hash)) is not None:
            return entry
        raise
    # Decided here, under the member lock, with the other checks; written by _write with the entry.
    # The streak row is read by a statement of its own, after the lock is granted. Joined into the lock's
    # statement it would be one round trip fewer but wrong: after waiting for the lock, PostgreSQL
    # re-reads only the locked member row, and the joined streak row is as of the statement's start, so
    # racing awards on a new day each added it (test_racing_awards_on_a_new_day_bump_the_streak_once).
    streak = None
    if operation == "award":
        streak = streaks.plan(member_id=holder.pk, reason=reason, points=points, xp=xp, at=at, row=streak_row)
    fields = {
        "reason": reason,
        "activity": activity,
        "actor": actor if getattr(actor, "pk", None) else None,
        "meta": meta or {},
        "idempotency_key": idempotency_key or None,
        "request_hash": request_hash,
        "created": at,
    }
    try:
        entry = _write(member=holder, points=points, xp=xp, fields=fields, streak=streak)
    except _KeyTaken:
        # The key is taken: by this member's first request (a replay; it committed before our lock was
        # granted) or by another member's: answer with its entry, or a conflict.
        if (entry := _replayed(idempotency_key, request_hash)) is not None:
            return entry
        raise IdempotencyConflict("This idempotency key was already used for a different request.") from None
    member.points, member.xp, member.level = holder.points, holder.xp, holder.level
    return entry


def _judge(*, holder: Member, operation: str, points: int, rule: EarningRule | None, at: datetime) -> None:
    """Every refusal a write can meet, decided on the locked row."""
    if operation == "award":
        # Every earning path ends here (engagement API, claims, check-in rules, staff awards, the Point
        # System protocol, achievements), and the locked row carries the ban: no path can miss it and
        # none pays a query for it. A replay still answers (``_post``): it earns nothing new.
        refuse_if_banned(holder, at=at)
    if rule is not None:
        _check_caps(member=holder, rule=rule, at=at)
    if points < 0 and holder.points < -points:
        raise InsufficientPoints("Not enough points.", balance=holder.points)


def refuse_self_award(*, actor, member: Member) -> None:
    """Raise SelfAwardForbidden when ``actor`` is the member being paid.

    Called by every staff-initiated award path (the bridge's staff awards, admin adjustments), not by
    award() itself: a member's own QR claim legitimately names the member as its actor."""
    if actor is not None and getattr(actor, "pk", None) is not None and actor.pk == member.user_id:
        raise SelfAwardForbidden("You cannot award yourself.")


def _positive(name: str, value: int, *, allow_zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (value == 0 and not allow_zero):
        raise LedgerError(f"{name} must be a positive whole number.", code="invalid_amount")
    return value


def award(
    *,
    member: Member,
    reason: str,
    points: int | None = None,
    xp: int | None = None,
    activity: Activity | None = None,
    actor=None,
    meta: dict | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    savepoint: bool = True,
) -> LedgerEntry:
    """Award points and XP for ``reason``.

    With no amounts, the reason's active earning rule gives them (UnknownReason if there is none).
    Explicit amounts override the rule's; XP defaults to the points. A rule's daily and lifetime caps
    apply either way and raise CapReached (code ``daily_cap_reached`` / ``lifetime_cap_reached``).

    ``savepoint=False``: the caller runs us inside its own transaction and lets any error of ours end
    that transaction (a QR claim does); we then take no savepoint, which costs two round trips.
    """
    with transaction.atomic(savepoint=savepoint):
        return _award(member=member, reason=reason, points=points, xp=xp, activity=activity, actor=actor,
                      meta=meta, idempotency_key=idempotency_key, at=at)


def _award(*, member, reason, points, xp, activity, actor, meta, idempotency_key, at) -> LedgerEntry:
    at = at or timezone.now()
    # The member lock first, then the rule, the campaign probe and the streak row in one statement
    # (the streak must be read after the lock is granted: see _post). A refusal below (unknown reason,
    # bad amounts) then ends the atomic block with the lock and nothing written. With no such member
    # (or an unsaved activity), the old order of statements gives the same answers in the same order.
    holder, streak_row = None, streaks.UNREAD
    if activity is None or activity.pk is not None:
        try:
            holder = lock_member(member.pk)
        except Member.DoesNotExist:
            holder = None
    if holder is not None:
        rule, campaign_running, streak_row = ledger_sql.rule_campaign_and_streak(reason, at, holder.pk)
    else:
        rule, campaign_running = ledger_sql.rule_and_campaign(reason, at)
    if points is None:
        if rule is None:
            raise UnknownReason(f"No active earning rule for '{reason}'.")
        points, xp = rule.points, rule.xp if xp is None else xp
    _positive("points", points, allow_zero=True)
    xp = _positive("xp", points if xp is None else xp, allow_zero=True)
    if points == 0 and xp == 0:
        raise LedgerError("An award must move points or XP.", code="invalid_amount")
    requested = (points, xp)
    if campaign_running and (boosted := campaigns.boost(reason=reason, points=points, xp=xp, at=at,
                                                        probed=True)) is not None:
        points, xp, meta = boosted.points, boosted.xp, {**(meta or {}), "campaign": boosted.meta}
    return _post(
        member=member, points=points, xp=xp, reason=reason, operation="award", activity=activity, actor=actor,
        meta=meta, idempotency_key=idempotency_key, at=at, rule=rule, requested=requested, holder=holder,
        streak_row=streak_row,
    )


def spend(
    *,
    member: Member,
    points: int,
    reason: str = SPEND_REASON,
    activity: Activity | None = None,
    actor=None,
    meta: dict | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    member_locked: bool = False,
) -> LedgerEntry:
    """Take ``points`` from the member; InsufficientPoints (409) if the balance would go below zero.

    ``member_locked``: the caller already holds the member's row lock in this transaction and passes
    the instance ``lock_member`` returned (its balances are current), so we do not lock it again. Such a
    caller is inside its own transaction, so we take no savepoint (two round trips): a refusal then
    dooms the caller's whole transaction, which must let the error through (as ``redeem`` does).
    """
    _positive("points", points)
    with transaction.atomic(savepoint=not member_locked):
        return _post(
            member=member, points=-points, xp=0, reason=reason, operation="spend", activity=activity,
            actor=actor, meta=meta, idempotency_key=idempotency_key, at=at, locked=member_locked,
        )


@transaction.atomic
def refund(
    *,
    member: Member,
    points: int,
    reason: str = REFUND_REASON,
    actor=None,
    meta: dict | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Give back points taken by ``spend``. Points only: a refund never earns XP."""
    _positive("points", points)
    return _post(
        member=member, points=points, xp=0, reason=reason, operation="refund", activity=None, actor=actor,
        meta=meta, idempotency_key=idempotency_key, at=at,
    )


@transaction.atomic
def adjust(
    *,
    member: Member,
    delta: int,
    actor,
    reason: str = ADJUST_REASON,
    activity: Activity | None = None,
    meta: dict | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """An admin correction of points (never XP). A removal below zero raises InsufficientPoints.

    Raising one's own balance is refused (SelfAwardForbidden) except for superusers: they can grant
    themselves any permission anyway, so refusing them would protect nothing; the entry names them."""
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0 or abs(delta) > MAX_ADJUST:
        raise LedgerError(f"delta must be a non-zero whole number from -{MAX_ADJUST} to {MAX_ADJUST}.",
                          code="invalid_amount")
    if delta > 0 and not getattr(actor, "is_superuser", False):
        refuse_self_award(actor=actor, member=member)
    return _post(
        member=member, points=delta, xp=0, reason=reason, operation="adjust", activity=activity, actor=actor,
        meta=meta, idempotency_key=idempotency_key, at=at,
    )


def member_for_user(user) -> Member:
    """The user's member profile, created on first use (the post_save receiver covers new users)."""
    member, _ = Member.objects.get_or_create(user=user)
    return member


def participant_for_external_id(external_id: int) -> Member:
    """The member another system calls ``external_id``; an unknown id becomes a new participant."""
    member = Member.objects.filter(external_id=external_id).select_related("user").first()
    if member is not None:
        return member
    try:
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username=f"participant-{external_id}")
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            elif user.has_usable_password():
                # A real account that merely has this name: never hand another system's points to it.
                raise LedgerError(f"The account name for participant {external_id} is taken by a person.",
                                  code="participant_conflict", status_code=409)
            member = member_for_user(user)
            Member.objects.filter(pk=member.pk, external_id__isnull=True).update(external_id=external_id)
    except IntegrityError:
        pass  # a concurrent first award created the participant; read theirs below
    return Member.objects.select_related("user").get(external_id=external_id)


def activity_for_external_id(external_id: int) -> Activity:
    """The activity another system calls ``external_id``, created on first use."""
    activity, _ = Activity.objects.get_or_create(
        external_id=external_id, defaults={"name": f"Activity {external_id}", "slug": f"activity-{external_id}"}
    )
    return activity
