"""The store's figures for /metrics (config/monitoring.py): redemptions made and where they stand."""

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from config import monitoring
from rewards.models import Redemption


@monitoring.figures
def redemption_figures() -> Iterable[Metric]:
    by_status = dict(Redemption.objects.values_list("status").annotate(n=Count("id")).order_by())
    # A redemption moves between statuses, so "how many are pending now" is a gauge; the sum is a counter.
    now = GaugeMetricFamily("plaudit_redemptions_in_status", "Redemptions by current status.", labels=["status"])
    for status in Redemption.Status.values:
        now.add_metric([status], by_status.get(status, 0))
    yield now
    yield CounterMetricFamily("plaudit_redemptions", "Redemptions made.", value=sum(by_status.values()))
