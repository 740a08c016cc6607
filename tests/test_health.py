"""/healthz: every check, the embedded default, failures that answer 503 (never a 500), the heartbeat."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from config import health, tasks
from config.celery import app as celery_app
from config.models import Heartbeat, OutboxTask
from tests.live import free_port


@pytest.fixture
def with_worker(monkeypatch):
    """As in production: Celery is not eager, so the broker and the worker's heartbeat are checked."""
    monkeypatch.setattr(health, "celery_embedded", lambda: False)
    monkeypatch.setattr(health, "check_broker", lambda *, at: {"ok": True})  # the dead-Redis test covers it


def healthz():
    return Client().get("/healthz")


@pytest.mark.django_db
def test_embedded_default_is_healthy_without_broker_or_worker():
    response = healthz()
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["checks"]["broker"] == {"ok": True, "used": False}
    assert body["checks"]["worker"] == {"ok": True, "used": False}
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_worker_is_dead_until_a_heartbeat_and_again_when_it_is_older_than_a_minute(with_worker, settings):
    settings.HEALTHZ_WORKER_MAX_AGE = 60
    assert healthz().status_code == 503
    assert healthz().json()["checks"]["worker"] == {"ok": False, "age_seconds": None}

    tasks.heartbeat.delay()  # what the beat sends; eager here, a worker in production
    assert healthz().status_code == 200

    health.record_heartbeat(at=timezone.now() - timedelta(seconds=61))
    body = healthz().json()
    assert body["status"] == "fail" and body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["age_seconds"] >= 61


@pytest.mark.django_db
def test_outbox_is_late_when_its_oldest_undelivered_row_waits_too_long(settings):
    settings.HEALTHZ_OUTBOX_MAX_AGE = 300
    created = timezone.now() - timedelta(seconds=301)
    row = OutboxTask.objects.create(task="plaudit.heartbeat", created=created, due_at=created)
    response = healthz()
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"]["outboxes"]["tasks"] >= 301

    OutboxTask.objects.filter(pk=row.pk).update(done_at=timezone.now())
    assert healthz().status_code == 200


@pytest.mark.django_db
def test_forwarding_outbox_counts_in_the_lag(member):
    from engagement import services
    from points_bridge.models import OutboxEntry

    entry = services.award(member=member, reason="test_fund", points=1)
    OutboxEntry.objects.create(entry=entry, created=timezone.now() - timedelta(seconds=42))
    assert health.check_outbox(at=timezone.now())["outboxes"]["forwarding"] >= 42


@pytest.mark.django_db
def test_a_failing_check_answers_503_naming_it_without_details(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis.internal:6379")

    monkeypatch.setattr(health.cache, "set", refuse)
    response = healthz()
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
    assert "redis.internal" not in response.content.decode()  # the public body carries no host names


@pytest.mark.django_db
def test_redis_down_fails_cache_and_broker_but_answers(settings):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead,
                                   "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1}}}
    Heartbeat.objects.create(name="worker", at=timezone.now())
    broker_url = celery_app.conf.broker_url
    celery_app.conf.update(task_always_eager=False, broker_url=dead)  # conftest makes it eager again
    try:
        response = healthz()
    finally:
        celery_app.conf.update(task_always_eager=True, broker_url=broker_url)
    checks = response.json()["checks"]
    assert response.status_code == 503
    assert checks["cache"]["ok"] is False and checks["broker"]["ok"] is False
    assert checks["database"]["ok"] and checks["worker"]["ok"]


@pytest.mark.django_db
def test_only_get_and_head():
    response = Client().post("/healthz")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_point_system_health_is_untouched():
    # /health is the Point System protocol's (its own contract); /healthz is ours.
    assert "checks" not in Client().get("/health").json()


def test_beat_sends_the_heartbeat_and_a_stale_one_expires(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["plaudit-heartbeat"]
    assert entry["task"] == tasks.heartbeat.name == "plaudit.heartbeat"
    assert entry["schedule"] == settings.HEARTBEAT_SECONDS <= 20
    assert entry["options"]["expires"] == settings.HEARTBEAT_SECONDS
