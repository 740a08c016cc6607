"""Bridge reads for the member API and the pages. Nothing here writes."""

from functools import cache

from django.db.models import Q, QuerySet
from django.utils import timezone

from config import sql
from engagement import seasons
from engagement.models import Activity, LedgerEntry, Member
from engagement.selectors import activity_by_ref
from points_bridge.models import Claim, ClaimTemplate
from points_bridge.point_system import ACTIVITY_TX


def activity_for_ref(ref: str) -> Activity | None:
    """engagement's activity_by_ref, for untrusted input: int() refuses "²" (which isdigit() accepts) and
    numbers of thousands of digits, so such references simply match nothing."""
    ref = str(ref)
    if len(ref) > 100 or (ref.isdigit() and not ref.isascii()):
        return None
    return activity_by_ref(ref)


def claim_for_key(key: str | None) -> Claim | None:
    """The claim an idempotency key already paid for, if any (a retry is answered, not rate-limited)."""
    return Claim.objects.filter(entry__idempotency_key=key).first() if key else None


@cache
def _claimer_sql() -> str:
    c = sql.column
    earlier = (f"SELECT c.{c(Claim, 'id')} FROM {sql.table(Claim)} c JOIN {sql.table(LedgerEntry)} e "
               f"ON e.{c(LedgerEntry, 'id')} = c.{c(Claim, 'entry')} WHERE e.{c(LedgerEntry, 'idempotency_key')} = %s")
    return (f"SELECT {sql.columns(Member, 'm')}, ({earlier}) FROM (SELECT 1 AS one) o "
            f"LEFT JOIN {sql.table(Member)} m ON m.{sql.column(Member, 'user')} = %s")


def claimer(*, user, key: str | None) -> tuple[Member | None, bool]:
    """What the claim API asks before claiming, in one prepared statement (every claim asks it): the
    user's member (None if it has none yet) and whether ``key`` already paid for a claim."""
    row = sql.fetch(_claimer_sql(), [key, user.pk])[0]
    member = sql.build(Member, row[:-1]) if row[0] is not None else None
    return member, row[-1] is not None


def entries(
    *, member: Member | None = None, activity: Activity | None = None, kind: str | None = None,
    reason: str | None = None,
) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.select_related("member__user", "activity").order_by("-created", "-id")
    if member is not None:
        qs = qs.filter(member=member)
    if activity is not None:
        qs = qs.filter(activity=activity)
    if kind == "activity":
        qs = qs.filter(ACTIVITY_TX)
    elif kind == "manual":
        qs = qs.exclude(ACTIVITY_TX)
    if reason:
        qs = qs.filter(reason=reason)
    return qs


def search_members(*, query: str, limit: int = 10) -> QuerySet[Member]:
    """Members whose handle or name contains the query (staff attribution's search box)."""
    words = query.split()[:3]
    qs = Member.objects.select_related("user")
    for word in words:
        qs = qs.filter(
            Q(username__icontains=word) | Q(user__username__icontains=word) | Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
        )
    return qs.order_by("user__first_name", "user__last_name", "id")[:limit] if words else qs.none()


def usable_templates() -> QuerySet[ClaimTemplate]:
    return ClaimTemplate.objects.alive().filter(enabled=True).select_related("activity")


def team_board_body(*, season, activity, limit: int, viewer) -> dict:
    """A season's team rows for the big screen (JSON and page), keyed ``team:<slug>`` for its script."""
    mine = seasons.membership(season=season, member=viewer) if viewer is not None else None
    rows = seasons.team_board(season=season, activity=activity)[:limit]
    items = [{"rank": r.rank, "key": f"team:{r.team.slug}", "name": r.team.name, "value": r.value,
              "members": r.members, "me": mine is not None and mine.team_id == r.team.pk} for r in rows]
    return {"metric": "points", "season": season.slug, "team": True,
            "activity": activity.slug if activity else None, "items": items,
            "updated_at": timezone.now().isoformat()}
