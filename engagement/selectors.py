"""Reads. Views fetch through these; nothing here writes."""

from django.db.models import QuerySet

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


def activity_by_ref(ref: str) -> Activity | None:
    """An activity by slug, or by id when ``ref`` is a number."""
    qs = Activity.objects.all()
    # isascii(): "²".isdigit() is True but int("²") fails; 18 digits keep it inside a bigint.
    if ref.isascii() and ref.isdigit():
        return qs.filter(pk=int(ref)).first() if len(ref) <= 18 else None
    return qs.filter(slug=ref).first()


def unlocked_achievement_count(*, member: Member) -> int:
    return MemberAchievement.objects.filter(member=member).count()
