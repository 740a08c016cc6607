"""The door's figures for /metrics (config/monitoring.py): scans by direction and result."""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, Metric

from checkin.models import Scan
from config import monitoring


@monitoring.figures
def scan_figures() -> Iterable[Metric]:
    scans = CounterMetricFamily("plaudit_scans", "Door scans stored, by direction and result (ok or the refusal "
                                "reason).", labels=["type", "result"])
    for row in Scan.objects.values("type", "error_reason").annotate(n=Count("id")).order_by("type", "error_reason"):
        scans.add_metric([row["type"], row["error_reason"] or "ok"], row["n"])
    yield scans
