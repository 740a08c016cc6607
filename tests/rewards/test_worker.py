"""A real Celery worker, against Redis and the test database, delivers a redemption email.

The rest of the suite runs tasks eagerly; this one proves the production path: the service enqueues on
commit, the message crosses Redis, a separate worker process loads the redemption by id and sends
through the configured EMAIL_BACKEND (here the file backend, so we can see the message arrive).
"""

import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from rewards import services

BASE_DIR = Path(settings.BASE_DIR)
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: the worker test uses Redis as the broker"),
    pytest.mark.skipif(connection.vendor == "sqlite",
                       reason="needs PostgreSQL: a worker process cannot see the test's SQLite database"),
]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(outbox: Path, queue: str) -> subprocess.Popen:
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(outbox), "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(outbox),
        "SITE_URL": "https://club.example",
    }
    command = [str(BASE_DIR / ".venv/bin/celery"), "-A", "config", "worker", "--pool=solo", "-Q", queue,
               "-n", f"rewards-test-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle",
               "--without-heartbeat", "--loglevel=WARNING"]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_mail(outbox: Path, worker: subprocess.Popen, subject: str, timeout: float = 60) -> str | None:
    """The first message with ``subject`` in the outbox directory; other apps' tasks may mail too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in outbox.glob("*.log"):
            found = [m for m in path.read_text().split("-" * 79) if f"Subject: {subject}" in m]
            if found:
                return found[0]
        if worker.poll() is not None:
            break
        time.sleep(0.25)
    return None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_redemption_email(rich_member, make_reward, tmp_path):
    reward = make_reward("avatar_static")
    queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False  # .delay goes to Redis (the autouse fixture restores it)
    celery_app.control.purge()  # nothing left over from an earlier, interrupted run
    worker = _start_worker(tmp_path, queue)
    try:
        services.redeem(member=rich_member, reward_id=reward.pk)  # commits; on_commit publishes to Redis
        message = _wait_for_mail(tmp_path, worker, "Enjoy your reward: Robot avatar")
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0].decode(errors="replace")
    assert message, f"no email within 60 s; worker said:\n{output[-3000:]}"
    assert "To: alice@example.org" in message and "https://club.example/me/" in message
