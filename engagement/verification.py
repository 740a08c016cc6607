"""Ledger verification: cached balances against the sums of their entries."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from engagement import levels
from engagement.models import LedgerEntry, Member


@dataclass(frozen=True)
class Mismatch:
    member_id: int
    name: str
    cached_points: int
    ledger_points: int
    cached_xp: int
    ledger_xp: int
    cached_level: int
    expected_level: int


def _sum(column: str):
    entries = LedgerEntry.objects.filter(member=OuterRef("pk")).order_by().values("member")
    return Coalesce(Subquery(entries.annotate(s=Sum(column)).values("s")), 0)


def ledger_mismatches(*, batch_size: int = 5000, progress=None):
    """Yield a Mismatch for every member whose cache differs from the ledger (one query per batch)."""
    last_pk = 0
    while True:
        batch = list(
            Member.objects.filter(pk__gt=last_pk).order_by("pk")
            .annotate(ledger_points=_sum("points"), ledger_xp=_sum("xp"))
            .values_list("pk", "username", "points", "ledger_points", "xp", "ledger_xp", "level")[:batch_size]
        )
        if not batch:
            return
        for pk, name, points, ledger_points, xp, ledger_xp, level in batch:
            expected_level = levels.level_for_xp(ledger_xp)
            if points != ledger_points or xp != ledger_xp or level < expected_level or points < 0:
                yield Mismatch(pk, name, points, ledger_points, xp, ledger_xp, level, expected_level)
        if progress is not None:
            progress(len(batch))
        last_pk = batch[-1][0]
