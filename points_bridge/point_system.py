"""The Point System protocol's services and reads: add, remove (with blind-retry de-duplication) and
the ``tx`` shape. Views in protocol.py validate and translate; everything that writes is here.

Identity: the protocol's integer ``user_id`` is ``Member.external_id`` and its ``activity_id`` is
``Activity.external_id``. Members without an external id (site accounts nobody linked) do not appear
in protocol reads; an admin links one by setting its external id.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from config import sql
from config.errors import DomainError
from engagement import services
from engagement.errors import CapReached, InsufficientPoints
from engagement.models import LedgerEntry, Member
from engagement.models.ledger import listed_q
from points_bridge import conf

REASON_PREFIX = "point_system:"
REASON_MANUAL = "point_system:manual"
REASON_ACTIVITY = "point_system:activity"
REASON_REMOVE = "point_system:remove"
TYPES = ("manual", "activity")
# Protocol ids are stored in BigIntegerField columns.
MAX_ID = 2**63 - 1
MAX_POINTS = 1_000_000_000

# An entry is an "activity" transaction if the protocol said so, or (for entries Plaudit wrote itself:
# claims, check-ins, ...) if it belongs to an activity. Expressed in SQL so the type filter pages well.
ACTIVITY_TX = Q(reason=REASON_ACTIVITY) | (Q(activity__isnull=False) & ~Q(reason__startswith=REASON_PREFIX))


@dataclass(frozen=True)
class Change:
    """One add or remove as the protocol asked for it (already validated by the view)."""

    user_id: int
    operation: str  # "manual", "activity" or "remove"
    points: int
    description: str | None = None
    activity_id: int | None = None
    timestamp: datetime | None = None
    idempotency_key: str | None = None  # the client's Idempotency-Key header, if any

    def fingerprint(self) -> str:
        stamp = self.timestamp.astimezone(UTC).isoformat() if self.timestamp else None
        raw = [self.user_id, self.operation, self.points, self.activity_id, self.description, stamp]
        return hashlib.sha256(json.dumps(raw, separators=(",", ":")).encode()).hexdigest()[:48]


# --- reads ------------------------------------------------------------------------------------------


def transaction_type(entry: LedgerEntry) -> str:
    if entry.reason == REASON_ACTIVITY:
        return "activity"
    if entry.reason.startswith(REASON_PREFIX):
        return "manual"
    return "activity" if entry.activity_id else "manual"


def _external_id(user) -> int | None:
    member = getattr(user, "member", None) if user is not None else None
    return member.external_id if member is not None else None


def tx(entry: LedgerEntry) -> dict:
    """One entry as the protocol's transaction object (removals have negative points)."""
    meta = entry.meta or {}
    return {
        "id": entry.pk,
        "user_id": entry.member.external_id,
        "activity_id": entry.activity.external_id if entry.activity_id else None,
        "issued_by_id": _external_id(entry.actor),
        "points": entry.points,
        "transaction_type": transaction_type(entry),
        "description": meta["description"] if "description" in meta else entry.reason,
        "created_at": entry.created.astimezone(UTC).isoformat(),
    }


def protocol_entries() -> QuerySet[LedgerEntry]:
    # XP-only entries (points 0) are not transactions in the protocol's sense: it has no XP.
    return (
        LedgerEntry.objects.filter(member__external_id__isnull=False)
        .exclude(points=0)
        .select_related("member", "activity", "actor__member")
        .order_by("-created", "-id")
    )


def member_by_external_id(user_id: int) -> Member | None:
    return Member.objects.filter(external_id=user_id).first() if 0 <= user_id <= MAX_ID else None


def history(*, member: Member) -> QuerySet[LedgerEntry]:
    return protocol_entries().filter(member=member)


def transactions(
    *, skip: int = 0, limit: int = 50, user_id: int | None = None, activity_id: int | None = None,
    transaction_type: str | None = None,
) -> QuerySet[LedgerEntry]:
    qs = protocol_entries()
    if user_id is not None:
        qs = qs.filter(member__external_id=user_id)
    if activity_id is not None:
        qs = qs.filter(activity__external_id=activity_id)
    if transaction_type == "activity":
        qs = qs.filter(ACTIVITY_TX)
    elif transaction_type == "manual":
        qs = qs.exclude(ACTIVITY_TX)
    return qs[skip : skip + limit]


def global_board(*, limit: int) -> list[dict]:
    """Balances of linked members, highest first (members who opted out of leaderboards or are banned are left out)."""
    rows = (
        Member.objects.filter(listed_q(), external_id__isnull=False)
        .order_by("-points", "external_id")
        .values("external_id", "points")[:limit]
    )
    return [{"user_id": r["external_id"], "points": r["points"]} for r in rows]


def activity_board(*, activity_id: int, limit: int) -> list[dict]:
    """Net points each linked member has in one activity (removals in it count against), highest first."""
    rows = (
        LedgerEntry.objects.filter(
            listed_q("member__"), activity__external_id=activity_id, member__external_id__isnull=False
        )
        .values("member__external_id")
        .annotate(total=Sum("points"))
        .filter(total__gt=0)
        .order_by("-total", "member__external_id")[:limit]
    )
    return [{"user_id": r["member__external_id"], "points": r["total"]} for r in rows]


# --- writes -----------------------------------------------------------------------------------------


def _dedup_keys(change: Change, at: datetime) -> tuple[str | None, str | None]:
    """(key to write under, key of an earlier identical request to look for).

    A client's Idempotency-Key wins. Otherwise the key is the request's fingerprint plus the number of
    the time bucket (one window long) we are in. Two identical requests inside one bucket collide on
    engagement's unique key and the second gets the first's entry, also when they race. An identical
    request in the *previous* bucket may still be inside the window (the edge case: 9:59 then 10:01
    with 10-minute buckets), so we also look for that key and honour it if it is younger than the
    window. What we accept: two identical requests racing across a bucket edge within milliseconds
    can both be recorded; blind retries come after the client's timeout, so they never race like that.
    """
    if change.idempotency_key:
        digest = hashlib.sha256(change.idempotency_key.encode()).hexdigest()[:48]
        return f"ps:key:{digest}", None
    window = conf.dedup_window().total_seconds()
    if window <= 0:
        return None, None
    bucket = int(at.timestamp() // window)
    fingerprint = change.fingerprint()
    return f"ps:dedup:{fingerprint}:{bucket}", f"ps:dedup:{fingerprint}:{bucket - 1}"


def _earlier_duplicate(key: str | None, at: datetime) -> LedgerEntry | None:
    if key is None:
        return None
    entry = LedgerEntry.objects.filter(idempotency_key=key, created__gte=at - conf.dedup_window()).first()
    if entry is not None:
        entry.replayed = True
    return entry


def _meta(change: Change) -> dict:
    meta = {"via": "point_system", "description": change.description, "transaction_type": "manual"}
    if change.operation == "activity":
        meta["transaction_type"] = "activity"
    if change.timestamp is not None:
        meta["timestamp"] = change.timestamp.astimezone(UTC).isoformat()
    return meta


def _activity(change: Change):
    return services.activity_for_external_id(change.activity_id) if change.activity_id is not None else None


@cache
def _participant_sql() -> str:
    e = lambda name: f"e.{sql.column(LedgerEntry, name)}"  # noqa: E731
    earlier = (f"SELECT {e('id')} FROM {sql.table(LedgerEntry)} e "
               f"WHERE {e('idempotency_key')} = %s AND {e('created')} >= %s")
    return (f"SELECT {sql.columns(Member, 'm')}, ({earlier}) FROM (SELECT 1 AS one) o "
            f"LEFT JOIN {sql.table(Member)} m ON m.{sql.column(Member, 'external_id')} = %s")


def _participant_and_earlier(user_id: int, earlier_key: str | None, at: datetime) -> tuple[Member | None, int | None]:
    """The participant ``user_id`` (None if new) and the id of an identical request's entry from the
    previous de-duplication bucket that is still inside the window: one round trip, as every award
    asks both. (The member's row lock is award()'s, afterwards.)"""
    since = sql.prep(LedgerEntry, "created", at - conf.dedup_window())
    row = sql.fetch(_participant_sql(), [earlier_key, since, user_id])[0]
    member = sql.build(Member, row[:-1]) if row[0] is not None else None
    return member, row[-1]


@transaction.atomic
def add_points(*, change: Change, at: datetime | None = None) -> LedgerEntry:
    """Award points to the participant ``change.user_id`` (created on first award).

    Returns the new entry, or the original one (``entry.replayed``) for a retry of the same request."""
    at = at or timezone.now()
    key, earlier_key = _dedup_keys(change, at)
    member, earlier_id = _participant_and_earlier(change.user_id, earlier_key, at)
    if earlier_id is not None:
        earlier = LedgerEntry.objects.get(pk=earlier_id)
        earlier.replayed = True
        return earlier
    reason = REASON_ACTIVITY if change.operation == "activity" else REASON_MANUAL
    try:
        # No savepoint: every error of award() ends this transaction (we are atomic and let it through).
        return services.award(
            member=member or services.participant_for_external_id(change.user_id), reason=reason,
            points=change.points, activity=_activity(change), meta=_meta(change), idempotency_key=key, at=at,
            savepoint=False,
        )
    except CapReached as exc:  # an admin put a cap on protocol awards; the protocol has no "not awarded"
        raise DomainError(exc.message, code=exc.code, status_code=409) from None


@transaction.atomic
def remove_points(*, change: Change, at: datetime | None = None) -> LedgerEntry:
    """Take points from ``change.user_id``; InsufficientPoints (409) when the balance is too small.
    An id we have never seen has a balance of 0, so it is refused the same way (and nobody is created)."""
    at = at or timezone.now()
    key, earlier_key = _dedup_keys(change, at)
    if (earlier := _earlier_duplicate(earlier_key, at)) is not None:
        return earlier
    member = member_by_external_id(change.user_id)
    if member is None:
        raise InsufficientPoints("Not enough points (this user has none).", balance=0)
    return services.spend(
        member=member, points=change.points, reason=REASON_REMOVE, activity=_activity(change),
        meta=_meta(change), idempotency_key=key, at=at,
    )
