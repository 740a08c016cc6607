"""What each app tells the operators: its outbox lag (for /healthz and /metrics) and its business figures
(for /metrics), registered from an optional ``<app>/monitoring.py`` module.

The shared ground imports no app, so apps come to it: ``PlauditConfig.ready()`` imports every installed
app's ``monitoring`` module (as the admin finds ``admin.py``), and those modules register here. Figures
are read from the database when Prometheus scrapes, not counted in memory, so they are right however
many gunicorn and Celery processes wrote the rows and survive restarts.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from config import outbox as task_outbox
from config.logs import warn_now_and_then
from config.models import Heartbeat

log = logging.getLogger(__name__)

OutboxAge = Callable[[], timedelta | None]
Figures = Callable[[], Iterable[Metric]]

_outboxes: dict[str, OutboxAge] = {}
_figures: list[Figures] = []


def outbox(name: str) -> Callable[[OutboxAge], OutboxAge]:
    """Register how long the oldest undelivered row of an outbox has waited (None: nothing waits)."""

    def register(age: OutboxAge) -> OutboxAge:
        _outboxes[name] = age
        return age

    return register


def figures(collect: Figures) -> Figures:
    """Register a function that yields Prometheus metric families read from the database."""
    if collect not in _figures:
        _figures.append(collect)
    return collect


def outbox_ages() -> dict[str, timedelta | None]:
    return {name: age() for name, age in sorted(_outboxes.items())}


def all_figures() -> Iterable[Metric]:
    """Every registered figure; one that fails (the database is down) is left out, never a failed scrape,
    and ``plaudit_figures_ok`` says so: latency and the process figures still reach Prometheus."""
    ok = 1
    for collect in _figures:
        try:
            families = list(collect())
        except Exception as exc:  # noqa: BLE001 - a scrape must answer whatever is broken
            warn_now_and_then(log, "Metrics figures %s failed: %r", collect.__qualname__, exc, every=60)
            ok = 0
            continue
        yield from families
    yield GaugeMetricFamily("plaudit_figures_ok", "1 when every figure could be read from the database.", value=ok)


# --- The ground's own figures ---------------------------------------------------------------------

outbox("tasks")(task_outbox.oldest_pending_age)


@figures
def ground_figures() -> Iterable[Metric]:
    ages = outbox_ages()
    lag = GaugeMetricFamily("plaudit_outbox_oldest_pending_seconds",
                            "Age of the oldest side effect not yet delivered (0: nothing waits).", labels=["outbox"])
    for name, age in ages.items():
        lag.add_metric([name], 0 if age is None else age.total_seconds())
    yield lag
    yield GaugeMetricFamily("plaudit_outbox_tasks_pending", "Outbox tasks not yet run by a worker.",
                            value=task_outbox.pending_count())
    last = Heartbeat.objects.filter(name="worker").values_list("at", flat=True).first()
    if last is not None:
        yield GaugeMetricFamily("plaudit_worker_heartbeat_age_seconds", "Seconds since a worker last ran the "
                                "heartbeat task.", value=(timezone.now() - last).total_seconds())
