"""Reads. Views fetch through these; nothing here writes."""

from functools import cache

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from config import sql as rawsql
from engagement.models import Activity, LedgerEntry, Member, MemberAchievement


def entries_for(*, member: Member | None = None, reason: str | None = None) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.select_related("member").order_by("-created", "-id")
    if member is not None:
        qs = qs.filter(member=member)
    if reason:
        qs = qs.filter(reason=reason)
    return qs


def member_by_user_id(user_id: int) -> Member | None:
    return Member.objects.select_related("user").filter(user_id=user_id).first()


@cache
def _member_and_recorded_sql(vendor: str) -> str:
    User, t, c = get_user_model(), rawsql.table, rawsql.column
    recorded = f"SELECT 1 FROM {t(LedgerEntry)} e WHERE e.{c(LedgerEntry, 'idempotency_key')} = %s"
    return (f"SELECT {rawsql.columns(Member, 'm')}, {rawsql.columns(User, 'u')}, "
            f"CASE WHEN EXISTS ({recorded}) THEN 1 ELSE 0 END FROM {t(Member)} m "
            f"JOIN {t(User)} u ON u.{c(User, User._meta.pk.name)} = m.{c(Member, 'user')} "
            f"WHERE m.{c(Member, 'user')} = %s")


def member_and_recorded(user_id: int, key: str | None) -> tuple[Member | None, bool]:
    """``member_by_user_id(user_id)`` (with its user) and whether a ledger entry already carries the
    idempotency ``key`` (False for no key), in one fixed statement: the events endpoint asks both on
    every call, and two ORM querysets cost more to compile than PostgreSQL takes to answer them."""
    found = rawsql.fetch(_member_and_recorded_sql(rawsql.db().vendor), [key or None, user_id])
    if not found:
        return None, False
    *row, recorded = found[0]
    member, user = rawsql.split(row, Member, get_user_model())
    member.user = user
    return member, bool(recorded)


def activity_by_ref(ref: str) -> Activity | None:
    """An activity by slug, or by id when ``ref`` is a number."""
    qs = Activity.objects.all()
    # isascii(): "²".isdigit() is True but int("²") fails; 18 digits keep it inside a bigint.
    if ref.isascii() and ref.isdigit():
        return qs.filter(pk=int(ref)).first() if len(ref) <= 18 else None
    return qs.filter(slug=ref).first()


def unlocked_achievement_count(*, member: Member) -> int:
    return MemberAchievement.objects.filter(member=member).count()
