"""The ledger's figures for /metrics (config/monitoring.py): entries and points by reason."""

from collections.abc import Iterable

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from prometheus_client.core import CounterMetricFamily, Metric

from config import monitoring
from engagement.models import LedgerEntry


def reason_label(reason: str) -> str:
    # One series per achievement would grow with the catalogue; they are all "achievement" here.
    return "achievement" if reason.startswith("achievement:") else reason


@monitoring.figures
def ledger_figures() -> Iterable[Metric]:
    entries = CounterMetricFamily("plaudit_ledger_entries", "Ledger entries written, by reason.", labels=["reason"])
    earned = CounterMetricFamily("plaudit_points_awarded", "Points credited, by reason.", labels=["reason"])
    spent = CounterMetricFamily("plaudit_points_spent", "Points debited, by reason.", labels=["reason"])
    totals: dict[str, list[int]] = {}
    rows = LedgerEntry.objects.values("reason").annotate(
        n=Count("id"), plus=Coalesce(Sum("points", filter=Q(points__gt=0)), 0),
        minus=Coalesce(Sum("points", filter=Q(points__lt=0)), 0))
    for row in rows:
        total = totals.setdefault(reason_label(row["reason"]), [0, 0, 0])
        total[0] += row["n"]
        total[1] += row["plus"]
        total[2] -= row["minus"]
    for reason, (count, plus, minus) in sorted(totals.items()):
        entries.add_metric([reason], count)
        earned.add_metric([reason], plus)
        spent.add_metric([reason], minus)
    yield from (entries, earned, spent)
