"""``GET /healthz``: can this deployment do its work right now? One JSON answer for a load balancer,
an orchestrator or a monitor; 200 when every check passes, 503 otherwise.

Checks, each with short timeouts so that the answer comes within about two seconds even when Redis or
the broker is unreachable:

- ``database``: ``SELECT 1``;
- ``cache``: a set and a get of a short-lived key (Redis, or the embedded local-memory cache);
- ``broker``: a connection to the Celery broker;
- ``worker``: the heartbeat a worker wrote when it last ran ``plaudit.heartbeat``, which the beat sends
  every HEARTBEAT_SECONDS, so a fresh one proves beat → broker → worker → database all turn;
- ``outbox``: the oldest side effect still waiting to be delivered (config/monitoring.py gathers every
  outbox), late after HEALTHZ_OUTBOX_MAX_AGE.

In the embedded default (Celery eager, no broker) there is no broker or worker to ask: those checks say
``"used": false`` and pass. The body names the failing check and the exception's class only: it is
public, and an error message can carry internal host names (the log has the message).
"""

import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from config import monitoring
from config.celery import app as celery_app
from config.logs import warn_now_and_then
from config.models import Heartbeat
from config.request_log import expected_refusal

log = logging.getLogger(__name__)
BROKER_TIMEOUT = 1.0  # seconds; a probe runs every few seconds and must never pile up behind a dead broker


def record_heartbeat(*, name: str = "worker", at: datetime | None = None) -> Heartbeat:
    """Note that a periodic task just ran in a worker (``plaudit.heartbeat``)."""
    heartbeat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"at": at or timezone.now()})
    return heartbeat


def celery_embedded() -> bool:
    return bool(celery_app.conf.task_always_eager) or str(celery_app.conf.broker_url).startswith("memory://")


def check_database(*, at: datetime) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return {"ok": cursor.fetchone() == (1,)}


def check_cache(*, at: datetime) -> dict:
    key, token = f"plaudit:healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, token, timeout=10)
    ok = cache.get(key) == token
    cache.delete(key)
    return {"ok": ok}


def check_broker(*, at: datetime) -> dict:
    if celery_embedded():
        return {"ok": True, "used": False}
    with celery_app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as conn:
        # One attempt, no retry loop: the next probe is the retry.
        conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
    return {"ok": True}


def check_worker(*, at: datetime) -> dict:
    if celery_embedded():
        return {"ok": True, "used": False}
    last = Heartbeat.objects.filter(name="worker").values_list("at", flat=True).first()
    if last is None:
        return {"ok": False, "age_seconds": None}
    age = (at - last).total_seconds()
    return {"ok": age <= settings.HEALTHZ_WORKER_MAX_AGE, "age_seconds": round(age, 1)}


def check_outbox(*, at: datetime) -> dict:
    ages = {name: (None if age is None else round(age.total_seconds(), 1))
            for name, age in monitoring.outbox_ages().items()}
    oldest = max((age for age in ages.values() if age is not None), default=None)
    ok = oldest is None or oldest <= settings.HEALTHZ_OUTBOX_MAX_AGE
    return {"ok": ok, "oldest_pending_seconds": oldest, "outboxes": ages}


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker, "worker": check_worker,
          "outbox": check_outbox}


def run_checks(*, at: datetime | None = None) -> dict:
    at = at or timezone.now()
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check(at=at)
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency is a failed check, never a 500
            warn_now_and_then(log, "Health check %s failed: %r", name, exc, every=30)
            results[name] = {"ok": False, "error": type(exc).__name__}
    return results


def healthz(request):
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": "Method not allowed.", "code": "method_not_allowed"}, status=405)
    checks = run_checks()
    healthy = all(result["ok"] for result in checks.values())
    if not healthy:
        # A probe every few seconds while Redis is down would log one line each; run_checks already
        # logs each failing check now and then, with its cause.
        expected_refusal(request)
    response = JsonResponse({"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
